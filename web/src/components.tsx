// Small building blocks shared by the pages.
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Api, ApiError, type Task } from "./api";
import { renderMarkdown } from "./lib/markdown";

/** An API error as a readable message; `role=alert` so it is announced. */
export function ErrorBox({ error, onRetry }: { error: ApiError | string | null; onRetry?: () => void }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.readable;
  return (
    <div class="error" role="alert">
      <span>{text}</span>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

export function Markdown({ text, class: cls }: { text: string; class?: string }) {
  return <div class={`markdown ${cls ?? ""}`} dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
}

/** A button that opens the pool's guidelines in a side panel (hotkey G in workspaces). */
export function GuidelinesButton({ text, open, setOpen }: { text: string; open: boolean; setOpen: (o: boolean) => void }) {
  return (
    <>
      <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} title="Guidelines (G)">
        Guidelines
      </button>
      {open && (
        <aside class="guidelines-panel" aria-label="Guidelines">
          <div class="row between">
            <h2>Guidelines</h2>
            <button type="button" onClick={() => setOpen(false)} aria-label="Close guidelines">
              ×
            </button>
          </div>
          {text.trim() ? <Markdown text={text} /> : <p class="muted">This project has no guidelines yet.</p>}
        </aside>
      )}
    </>
  );
}

export function Field({ label, error, children, hint }: { label: string; error?: string | null; hint?: string; children: ComponentChildren }) {
  return (
    <label class={`field ${error ? "invalid" : ""}`}>
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="hint">{hint}</span>}
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

/** Maps an ApiError's field to the form field it belongs to. */
export function fieldError(error: ApiError | null, ...fields: string[]): string | null {
  if (!error?.field) return null;
  return fields.some((f) => error.field === f || error.field!.startsWith(`${f}.`) || error.field!.startsWith(`${f}[`))
    ? error.message
    : null;
}

export function useToggle(initial = false): [boolean, (v: boolean) => void] {
  const [v, set] = useState(initial);
  return [v, set];
}

/** A task's image, fetched with the session's token (the route needs it). */
export function TaskImage({ task, alt }: { task: Pick<Task, "id" | "image_route">; alt: string }) {
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    let url: string | null = null;
    setSrc(null);
    setError(null);
    Api.taskImage(task, abort.signal)
      .then((blob) => {
        url = URL.createObjectURL(blob);
        setSrc(url);
      })
      .catch((e) => {
        if ((e as Error).name !== "AbortError") setError(e instanceof ApiError ? e.readable : String(e));
      });
    return () => {
      abort.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [task.id, task.image_route]);
  if (error) return <ErrorBox error={`The image could not be loaded: ${error}`} />;
  if (!src) return <Loading what="Loading image" />;
  return <img class="task-image" src={src} alt={alt} />;
}
