/**
 * When a failed webhook delivery is tried again: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h,
 * 4 h, then every 6 h, each stretched or shrunk by up to 15% at random so that deliveries that
 * failed together (an endpoint down) do not all come back at the same instant.
 */
const SCHEDULE_SECONDS = [10, 30, 120, 600, 1800, 3600, 7200, 14_400];
const CAP_SECONDS = 21_600;

/** The delay before the next try, after `attempts` tries (1 or more) have failed. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number {
  const base = SCHEDULE_SECONDS[Math.max(0, attempts - 1)] ?? CAP_SECONDS;
  const jitter = 0.85 + random() * 0.3;
  return Math.round(base * 1000 * jitter);
}
