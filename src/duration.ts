// Durations as people write them in flags and config files (`90s`, `30m`, `12h`, `5d`,
// `1500ms`). Shared by the CLI and the core (audit check files), so neither imports the other.
import { ValidationError } from './errors.ts';

/** `90s`, `30m`, `12h`, `5d`, `1500ms` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) throw new ValidationError(`duration '${text}' is not like 90s, 30m, 12h or 5d`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}
