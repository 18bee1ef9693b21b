// Continuous-work tracking for the break prompt: work counts as continuous
// until a pause of at least `gapMinutes` without activity.

export interface FatigueState {
  /** When the current stretch of continuous work started (ms). */
  since: number;
  /** Last activity (ms). */
  last: number;
  /** No prompt before this time (ms): set by "keep going". */
  snoozedUntil: number;
}

export const BREAK_GAP_MINUTES = 5;
export const SNOOZE_MINUTES = 15;

export function startFatigue(now: number): FatigueState {
  return { since: now, last: now, snoozedUntil: 0 };
}

/** Records activity at `now`; a long enough pause starts a new stretch. */
export function recordActivity(s: FatigueState, now: number, gapMinutes = BREAK_GAP_MINUTES): FatigueState {
  if (now - s.last >= gapMinutes * 60_000) return { since: now, last: now, snoozedUntil: 0 };
  return { ...s, last: now };
}

/** Minutes of continuous work at `now`. */
export function continuousMinutes(s: FatigueState, now: number, gapMinutes = BREAK_GAP_MINUTES): number {
  if (now - s.last >= gapMinutes * 60_000) return 0;
  return (now - s.since) / 60_000;
}

/** Whether to suggest a break (breakAfter = 0: never). */
export function shouldSuggestBreak(s: FatigueState, now: number, breakAfterMinutes: number): boolean {
  return breakAfterMinutes > 0 && now >= s.snoozedUntil && continuousMinutes(s, now) >= breakAfterMinutes;
}

export function snooze(s: FatigueState, now: number): FatigueState {
  return { ...s, snoozedUntil: now + SNOOZE_MINUTES * 60_000 };
}
