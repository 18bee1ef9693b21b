import { describe, expect, it } from "vitest";
import { continuousMinutes, recordActivity, shouldSuggestBreak, snooze, startFatigue } from "../src/lib/fatigue";

const MIN = 60_000;

describe("break prompt", () => {
  it("suggests a break after the set minutes of continuous work", () => {
    let s = startFatigue(0);
    for (let t = 1; t <= 60; t++) s = recordActivity(s, t * MIN);
    expect(continuousMinutes(s, 60 * MIN)).toBe(60);
    expect(shouldSuggestBreak(s, 59 * MIN, 60)).toBe(false);
    expect(shouldSuggestBreak(s, 60 * MIN, 60)).toBe(true);
    expect(shouldSuggestBreak(s, 60 * MIN, 0)).toBe(false);
  });

  it("starts over after a pause of five minutes", () => {
    let s = startFatigue(0);
    s = recordActivity(s, 50 * MIN);
    s = recordActivity(s, 56 * MIN); // 6 minutes idle: a new stretch
    expect(continuousMinutes(s, 56 * MIN)).toBe(0);
    expect(continuousMinutes(s, 58 * MIN)).toBe(2);
    expect(continuousMinutes(s, 70 * MIN)).toBe(0); // idle again
  });

  it("keeps quiet for fifteen minutes after 'keep going'", () => {
    let s = startFatigue(0);
    for (let t = 1; t <= 60; t++) s = recordActivity(s, t * MIN);
    s = snooze(s, 60 * MIN);
    for (let t = 61; t <= 80; t++) s = recordActivity(s, t * MIN);
    expect(shouldSuggestBreak(s, 74 * MIN, 60)).toBe(false);
    expect(shouldSuggestBreak(s, 75 * MIN, 60)).toBe(true);
  });
});
