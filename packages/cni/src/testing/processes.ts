import { readdirSync, readFileSync } from 'node:fs';

/** A running process and its command line. */
export interface ProcessInfo {
  pid: number;
  argv: string[];
}

/** The processes whose command line mentions `text` (a lab's directory). */
export function processesMentioning(text: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // the process ended meanwhile
    }
    if (cmdline.includes(text)) found.push({ pid: Number(pid), argv: cmdline.split('\0') });
  }
  return found;
}
