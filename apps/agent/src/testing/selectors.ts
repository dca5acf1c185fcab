/** One requirement of a label or field selector. */
interface Requirement {
  key: string;
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

/**
 * Parses a Kubernetes label or field selector (`a=b,c!=d,e in (x,y),!f`) as the API server reads
 * it, and returns a predicate over a value lookup.
 */
export function parseSelector(text: string | null): (get: (key: string) => string | undefined) => boolean {
  const requirements: Requirement[] = [];
  for (const part of (text ?? '')
    .split(/,(?![^(]*\))/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (set)
      requirements.push({
        key: set[1] as string,
        op: set[2] as 'in' | 'notin',
        values: (set[3] as string).split(',').map((v) => v.trim()),
      });
    else if (part.startsWith('!')) requirements.push({ key: part.slice(1), op: '!exists', values: [] });
    else {
      const eq = /^([^!=]+)(==|=|!=)(.*)$/.exec(part);
      if (eq)
        requirements.push({
          key: eq[1] as string,
          op: eq[2] === '!=' ? '!=' : '=',
          values: [eq[3] as string],
        });
      else requirements.push({ key: part, op: 'exists', values: [] });
    }
  }
  return (get) =>
    requirements.every(({ key, op, values }) => {
      const v = get(key);
      switch (op) {
        case '=':
          return v === values[0];
        case '!=':
          return v !== values[0];
        case 'in':
          return v !== undefined && values.includes(v);
        case 'notin':
          return v === undefined || !values.includes(v);
        case 'exists':
          return v !== undefined;
        default:
          return v === undefined;
      }
    });
}
