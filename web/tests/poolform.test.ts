// The pool form → CreatePoolRequest body, its per-field messages, and export helpers.
import { describe, expect, it } from "vitest";
import {
  buildPoolRequest,
  defaultPoolForm,
  exportFileName,
  exportFormats,
  formFieldOf,
  localToRfc3339,
  serverMessage,
  splitList,
  type PoolFormState,
} from "../src/lib/poolform";

const form = (over: Partial<PoolFormState>): PoolFormState => ({ ...defaultPoolForm(), ...over });

describe("buildPoolRequest", () => {
  it("bbox: labels one per line, price in minor units, lease in seconds, opens_at with offset", () => {
    const r = buildPoolRequest(
      form({
        name: " Night pedestrians ",
        taskType: "bbox",
        labels: "person\ncar\n\ntraffic light\n",
        price: "0.30",
        overlap: "1",
        leaseMinutes: "15",
        maxRounds: "2",
        opensAt: "2026-12-01T08:00",
      }),
      "CNY",
      480,
    );
    expect(r.errors).toEqual({});
    expect(r.body).toEqual({
      name: "Night pedestrians",
      task_type: "bbox",
      config: { labels: ["person", "car", "traffic light"] },
      price: { amount_minor: 30, currency: "CNY" },
      overlap: 1,
      lease_seconds: 900,
      max_rounds: 2,
      opens_at: "2026-12-01T08:00:00+08:00",
    });
  });

  it("classify: a comma list; no opens_at when empty", () => {
    const r = buildPoolRequest(form({ name: "Sentiment", taskType: "classify", labels: "positive, negative ,neutral", price: "1" }));
    expect(r.body).toMatchObject({ config: { labels: ["positive", "negative", "neutral"] }, price: { amount_minor: 100 } });
    expect(r.body).not.toHaveProperty("opens_at");
  });

  it("pairwise: rationale_required only; labels typed before switching type are not sent", () => {
    const r = buildPoolRequest(
      form({ name: "Neutral?", taskType: "pairwise", labels: "left over", rationaleRequired: true, price: "2.5", overlap: "5" }),
    );
    expect(r.body).toMatchObject({ task_type: "pairwise", config: { rationale_required: true }, price: { amount_minor: 250 }, overlap: 5 });
    expect((r.body!.config as Record<string, unknown>).labels).toBeUndefined();
  });

  it("rating: criteria and scale", () => {
    const r = buildPoolRequest(form({ name: "Rate", taskType: "rating", criteria: "helpfulness\ncorrectness", scaleMin: "0", scaleMax: "10", price: "1.50" }));
    expect(r.body!.config).toEqual({ criteria: ["helpfulness", "correctness"], scale: { min: 0, max: 10 }, rationale_required: false });
  });

  it("rewrite and reference: empty config", () => {
    expect(buildPoolRequest(form({ name: "R", taskType: "rewrite", price: "80" })).body!.config).toEqual({});
    expect(buildPoolRequest(form({ name: "R", taskType: "reference", price: "80" })).body!.config).toEqual({});
  });

  it("names every invalid field with a message and builds no body", () => {
    const r = buildPoolRequest(
      form({ name: "  ", taskType: "bbox", labels: " , ", price: "0.305", overlap: "0", leaseMinutes: "abc", maxRounds: "11", opensAt: "tomorrow" }),
    );
    expect(r.body).toBeNull();
    expect(Object.keys(r.errors).sort()).toEqual(["config.labels", "lease_seconds", "max_rounds", "name", "opens_at", "overlap", "price"]);
    expect(r.errors.price).toMatch(/at most 2 decimals/);
    expect(r.errors.overlap).toBe("A whole number from 1 to 100.");
  });

  it("requires a price, criteria and an ordered scale", () => {
    const r = buildPoolRequest(form({ name: "x", taskType: "rating", criteria: "", scaleMin: "5", scaleMax: "5", price: "" }));
    expect(r.errors.price).toMatch(/Enter the price per task in CNY/);
    expect(r.errors["config.criteria"]).toMatch(/at least one criterion/);
    expect(r.errors["config.scale"]).toBe("The minimum must be below the maximum.");
    expect(buildPoolRequest(form({ name: "x", taskType: "rating", criteria: "a", scaleMin: "1.5", price: "1" })).errors["config.scale"]).toMatch(/whole numbers/);
  });

  it("leaves duplicate labels to the server (which names the index)", () => {
    expect(buildPoolRequest(form({ name: "x", labels: "car, car", price: "1" })).body!.config).toEqual({ labels: ["car", "car"] });
  });
});

describe("helpers", () => {
  it("splitList: lines win over commas", () => {
    expect(splitList("a, b\nc")).toEqual(["a, b", "c"]);
    expect(splitList("a, b ,c,")).toEqual(["a", "b", "c"]);
    expect(splitList("  ")).toEqual([]);
  });

  it("localToRfc3339: offsets east and west, invalid dates", () => {
    expect(localToRfc3339("2026-12-01T08:00", 480)).toBe("2026-12-01T08:00:00+08:00");
    expect(localToRfc3339("2026-07-04T23:30:15", -330)).toBe("2026-07-04T23:30:15-05:30");
    expect(localToRfc3339("2026-01-01T00:00", 0)).toBe("2026-01-01T00:00:00+00:00");
    expect(localToRfc3339("2026-02-30T08:00", 0)).toBeNull();
    expect(localToRfc3339("2026-12-01", 0)).toBeNull();
    // Without an override the browser's own offset is used.
    expect(localToRfc3339("2026-12-01T08:00")).toMatch(/^2026-12-01T08:00:00[+-]\d\d:\d\d$/);
  });

  it("formFieldOf maps server fields to form fields", () => {
    expect(formFieldOf("config.labels[1]")).toBe("config.labels");
    expect(formFieldOf("config.scale")).toBe("config.scale");
    expect(formFieldOf("price.currency")).toBe("price");
    expect(formFieldOf("lease_seconds")).toBe("lease_seconds");
    expect(formFieldOf("body")).toBeNull();
    expect(formFieldOf(null)).toBeNull();
  });

  it("serverMessage names the duplicate label", () => {
    const f = form({ labels: "car\nperson\ncar" });
    expect(serverMessage("config.labels[2]", "duplicate label", f)).toBe("duplicate label: “car” (label 3)");
    expect(serverMessage("overlap", "must be from 1 to 100", f)).toBe("must be from 1 to 100");
  });

  it("export formats per task type and file names", () => {
    expect(exportFormats("bbox")).toEqual(["jsonl", "coco", "yolo", "voc", "ls"]);
    expect(exportFormats("pairwise")).toEqual(["dpo", "jsonl"]);
    expect(exportFormats("rating")).toContain("ratings-csv");
    expect(exportFormats("reference")).toEqual(["sft", "jsonl"]);
    expect(exportFileName(5, "dpo")).toBe("pool-5-dpo.jsonl");
    expect(exportFileName(1, "yolo", "gold")).toBe("pool-1-yolo-gold.tar");
    expect(exportFileName(1, "coco")).toBe("pool-1-coco.json");
    expect(exportFileName(3, "ratings-csv", "aggregated")).toBe("pool-3-ratings-csv-aggregated.csv");
  });
});

describe("workforce settings", () => {
  const base = { ...defaultPoolForm("classify"), name: "P", labels: "a, b", price: "1" };

  it("leaves config.workforce out when nothing is set", () => {
    expect(buildPoolRequest(base).body?.config).toEqual({ labels: ["a", "b"] });
  });

  it("turns the form into config.workforce", () => {
    const r = buildPoolRequest({
      ...base,
      domain: "medicine",
      skill: "medicine",
      trialRequired: true,
      trialPassPercent: "75",
      trialTasks: "4",
      goldPercent: "5",
      tierMin: "contributor",
      dailyCap: "200",
      breakAfterMinutes: "60",
      hourlyFloor: "150",
      dynamicMax: "5",
      dynamicConfidencePercent: "90",
    });
    expect(r.errors).toEqual({});
    expect((r.body!.config as Record<string, unknown>).workforce).toEqual({
      domain: "medicine",
      skill: "medicine",
      trial: { required: true, pass_threshold: 0.75, tasks: 4 },
      gold_rate: 0.05,
      tier_min: "contributor",
      daily_cap: 200,
      break_after_minutes: 60,
      hourly_floor: { amount_minor: 15000, currency: "CNY" },
      dynamic_overlap: { min: 1, max: 5, confidence: 0.9 },
    });
  });

  it("names every bad setting under config.workforce", () => {
    const r = buildPoolRequest({ ...base, goldPercent: "80", dailyCap: "-3", hourlyFloor: "1.234" });
    expect(r.body).toBeNull();
    expect(r.errors["config.workforce"]).toBe(
      "Gold checks: a percentage from 0 to 50. Daily cap: a whole number of tasks. Hourly floor: an amount in CNY, e.g. 150.",
    );
    expect(formFieldOf("config.workforce.trial.tasks")).toBe("config.workforce");
  });
});
