export { hostCheck } from './check.js';
export { hostInstall } from './install.js';
