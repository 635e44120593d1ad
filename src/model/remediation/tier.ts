/** How much a person must trust a clean-up step: safe ones may run unattended, destructive ones never by this tool. */
export type Tier = 'safe' | 'moderate' | 'destructive';
