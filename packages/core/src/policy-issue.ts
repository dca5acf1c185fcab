/** One problem found while validating a policy. */
export interface PolicyIssue {
  /** Where the problem is, as a dotted path with array indexes, e.g. `outbound.excludeCidrs[1]`. */
  path: string;
  /** What is wrong and how to fix it, as a sentence a person can act on. */
  message: string;
}
