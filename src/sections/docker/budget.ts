import { dfReserveMs } from '../../host/budget.js';
import { remainingMs } from '../../host/deadline.js';

/** What /system/df may take: the section's time less the reserve for what follows it. */
export function afterReserve(deadline: number): number {
  const left = remainingMs(deadline);
  return left - dfReserveMs(left);
}
