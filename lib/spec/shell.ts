/** Shell quoting for the variable prelude of scripts (POSIX single quotes). */
export function quoteShell(value: string): string {
  if (/^[A-Za-z0-9_.,:/@%+=-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The variable a script sees for an argument: `java-distro` → `java_distro`. */
export function envName(argument: string): string {
  return argument.replace(/-/g, '_');
}

export function isShellName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
