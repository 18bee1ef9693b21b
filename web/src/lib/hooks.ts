// Hooks shared by the pages: loading API data, keyboard shortcuts, active time.
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "../api";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` on mount and whenever `deps` change; keeps the last good data. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load()
      .then((d) => {
        if (!live) return;
        setData(d);
        setError(null);
      })
      .catch((e) => live && setError(asApiError(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function asApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, "client", e instanceof Error ? e.message : String(e));
}

/** True when the key event comes from a text field (shortcuts then stay out of the way). */
export function isTyping(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  const tag = t.tagName;
  return tag === "TEXTAREA" || (tag === "INPUT" && !["checkbox", "radio", "button"].includes((t as HTMLInputElement).type)) || t.isContentEditable;
}

/**
 * Calls `handler` for keydown events on the window while mounted. The listener
 * is added in a layout effect, in the same task that puts the component on
 * screen: a plain effect waits for the next frame, so a key pressed as soon as
 * a workspace shows (a fast typist, a busy machine) would reach no handler.
 */
export function useKeys(handler: (e: KeyboardEvent) => void, deps: unknown[]): void {
  const ref = useRef(handler);
  ref.current = handler;
  useLayoutEffect(() => {
    const fn = (e: KeyboardEvent) => ref.current(e);
    window.addEventListener("keydown", fn);
    return () => window.removeEventListener("keydown", fn);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

/**
 * Active seconds on the current item: time counts while the page is visible and
 * the user interacted within the last `idleSeconds`.
 */
export function useActiveTime(key: unknown, idleSeconds = 60): () => number {
  const total = useRef(0);
  const lastTick = useRef(Date.now());
  const lastInput = useRef(Date.now());
  useEffect(() => {
    total.current = 0;
    lastTick.current = Date.now();
    lastInput.current = Date.now();
  }, [key]);
  useEffect(() => {
    const input = () => (lastInput.current = Date.now());
    const events = ["keydown", "pointerdown", "pointermove", "wheel"];
    events.forEach((ev) => window.addEventListener(ev, input, { passive: true }));
    const timer = setInterval(() => {
      const now = Date.now();
      if (document.visibilityState === "visible" && now - lastInput.current < idleSeconds * 1000) {
        total.current += (now - lastTick.current) / 1000;
      }
      lastTick.current = now;
    }, 1000);
    return () => {
      events.forEach((ev) => window.removeEventListener(ev, input));
      clearInterval(timer);
    };
  }, [idleSeconds]);
  return useCallback(() => Math.round(total.current), []);
}

/** Seconds until `iso`, updated every second. */
export function useCountdown(iso: string | null | undefined): number | null {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  if (!iso) return null;
  return Math.max(0, (new Date(iso).getTime() - now) / 1000);
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}
