// Peak RSS of a process tree (a benchmark's child and everything it starts: JVMs, Python,
// worker threads' processes), polled from /proc, so a figure is the engine's and not the
// benchmark driver's. Linux only.
import { readdirSync, readFileSync } from 'node:fs';

function parentPids(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited between readdir and read
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  return children;
}

function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Polls the summed VmRSS of `root` and its descendants every 200 ms; stop() returns the max. */
export function watchTreeRss(root: number): { stop(): number } {
  let peak = 0;
  const poll = (): void => {
    const children = parentPids();
    let sum = 0;
    const todo = [root];
    while (todo.length > 0) {
      const pid = todo.pop()!;
      sum += rssBytes(pid);
      todo.push(...(children.get(pid) ?? []));
    }
    peak = Math.max(peak, sum);
  };
  poll();
  const timer = setInterval(poll, 200);
  return { stop: () => { clearInterval(timer); poll(); return peak; } };
}
