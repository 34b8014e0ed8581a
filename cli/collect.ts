/** Commander's accumulator for a repeatable option (`--label a=b --label c=d`). */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
