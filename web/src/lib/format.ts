// Formatting of money, durations and dates for display.
import type { Money } from "../api";

const MINOR_DIGITS: Record<string, number> = { JPY: 0, KRW: 0 };

/** 150 CNY minor units → "1.50 CNY". */
export function formatMoney(m: Money | null | undefined): string {
  if (!m) return "—";
  const digits = MINOR_DIGITS[m.currency] ?? 2;
  const value = m.amount_minor / 10 ** digits;
  return `${value.toFixed(digits)} ${m.currency}`;
}

/** A decimal amount typed by a user ("1.5") → minor units (150); null when malformed. */
export function parseMoney(text: string, currency = "CNY"): number | null {
  const t = text.trim();
  const digits = MINOR_DIGITS[currency] ?? 2;
  const re = digits === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`);
  if (!re.test(t)) return null;
  const [whole, frac = ""] = t.split(".");
  return Number(whole) * 10 ** digits + Number(frac.padEnd(digits, "0") || "0");
}

/** 75 → "1:15"; 3725 → "1:02:05". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatPercent(x: number | null | undefined): string {
  return x == null ? "—" : `${(x * 100).toFixed(1)}%`;
}

export const TASK_TYPE_NAMES: Record<string, string> = {
  bbox: "Boxes on images",
  classify: "Classification",
  pairwise: "Pairwise comparison",
  rating: "Rating",
  rewrite: "Rewrite",
  reference: "Reference answer",
};
