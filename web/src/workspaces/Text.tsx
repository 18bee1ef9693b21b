// Workspaces of the classify, pairwise, rating, rewrite and reference task
// types. Hotkeys are listed on screen; Ctrl+Enter submits (the host page).
import { useMemo, useRef, useState } from "preact/hooks";
import type { Comment } from "../api";
import { Markdown, TaskImage } from "../components";
import { diffStats, diffWords, type DiffOp } from "../lib/diff";
import { isTyping, useKeys } from "../lib/hooks";
import { wordCount } from "../lib/markdown";
import { AnchoredText, CommentList } from "./AnchoredText";
import type { WorkspaceProps } from "./types";

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** Comments of a returned round, shown on the text they were made on. */
function ReturnedComments({ comments, text }: { comments?: Comment[]; text: string }) {
  if (!comments?.length) return null;
  return (
    <section class="card" aria-label="Returned with comments">
      <h3>The reviewer returned this with comments</h3>
      {text && <AnchoredText text={text} comments={comments} label="Your last round with comments" />}
      <CommentList comments={comments} text={text} />
    </section>
  );
}

function Rationale({ props, required }: { props: WorkspaceProps; required: boolean }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const value = str(props.value?.rationale);
  useKeys((e) => {
    if (!isTyping(e) && e.key === "r" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      ref.current?.focus();
    }
  }, []);
  if (props.readOnly) {
    return value ? (
      <section>
        <h3>Rationale</h3>
        <AnchoredText text={value} comments={props.comments} label="Rationale" onSelect={props.onAnchor && ((span) => props.onAnchor!({ span }))} />
      </section>
    ) : null;
  }
  return (
    <label class="field">
      <span class="field-label">
        Rationale {required ? "(required)" : "(optional)"} <kbd>R</kbd>
      </span>
      <textarea ref={ref} value={value} onInput={(e) => props.onChange({ ...props.value, rationale: e.currentTarget.value })} rows={3} />
    </label>
  );
}

export function ClassifyWorkspace(props: WorkspaceProps) {
  const labels = props.pool.config.labels ?? [];
  const chosen = str(props.value?.label);
  const choose = (label: string) => !props.readOnly && props.onChange({ label });
  useKeys((e) => {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const n = Number(e.key);
    if (n >= 1 && n <= Math.min(9, labels.length)) {
      e.preventDefault();
      choose(labels[n - 1]);
    }
  }, [labels, props.readOnly]);
  const { data } = props.task;
  return (
    <div class="stack">
      {data.image ? <TaskImage task={props.task} alt="The image to classify" /> : <div class="prompt">{str(data.text)}</div>}
      <div class="choices" role="group" aria-label="Label">
        {labels.map((l, i) => (
          <button type="button" key={l} aria-pressed={chosen === l} disabled={props.readOnly} onClick={() => choose(l)}>
            {i < 9 && <kbd>{i + 1}</kbd>} {l}
          </button>
        ))}
      </div>
    </div>
  );
}

export function PairwiseWorkspace(props: WorkspaceProps) {
  const { data } = props.task;
  const responses = (data.responses as string[] | undefined) ?? [];
  const choice = str(props.value?.choice);
  const choose = (c: "a" | "b" | "tie") => !props.readOnly && props.onChange({ ...props.value, choice: c });
  useKeys((e) => {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    const map: Record<string, "a" | "b" | "tie"> = { a: "a", "1": "a", b: "b", "2": "b", t: "tie", "3": "tie" };
    const c = map[e.key.toLowerCase()];
    if (c) {
      e.preventDefault();
      choose(c);
    }
  }, [props.readOnly, props.value]);
  return (
    <div class="stack">
      <section aria-label="Prompt" class="prompt">
        {str(data.prompt)}
      </section>
      <div class="responses">
        {(["a", "b"] as const).map((side, i) => (
          <section key={side} aria-label={`Response ${side.toUpperCase()}`} class={`response ${choice === side ? "chosen" : ""}`}>
            <h3>Response {side.toUpperCase()}</h3>
            {responses[i] ?? ""}
          </section>
        ))}
      </div>
      <div class="choices" role="group" aria-label="Which response is better?">
        <button type="button" aria-pressed={choice === "a"} disabled={props.readOnly} onClick={() => choose("a")}>
          <kbd>A</kbd> A is better
        </button>
        <button type="button" aria-pressed={choice === "tie"} disabled={props.readOnly} onClick={() => choose("tie")}>
          <kbd>T</kbd> Tie
        </button>
        <button type="button" aria-pressed={choice === "b"} disabled={props.readOnly} onClick={() => choose("b")}>
          <kbd>B</kbd> B is better
        </button>
      </div>
      <Rationale props={props} required={!!props.pool.config.rationale_required} />
      {!props.readOnly && <ReturnedComments comments={props.comments} text={str(props.value?.rationale)} />}
    </div>
  );
}

export function RatingWorkspace(props: WorkspaceProps) {
  const { data } = props.task;
  const criteria = props.pool.config.criteria ?? [];
  const scale = props.pool.config.scale ?? { min: 1, max: 5 };
  const scores = (props.value?.scores ?? {}) as Record<string, number>;
  const steps = Array.from({ length: scale.max - scale.min + 1 }, (_, i) => scale.min + i);
  // Digit keys score the current criterion and move on to the next one.
  const [current, setCurrent] = useState(0);
  const set = (c: string, v: number) => !props.readOnly && props.onChange({ ...props.value, scores: { ...scores, [c]: v } });
  useKeys((e) => {
    if (isTyping(e) || e.ctrlKey || e.metaKey || e.altKey || props.readOnly || scale.max > 9 || scale.min < 0) return;
    const v = Number(e.key);
    if (e.key.length === 1 && v >= scale.min && v <= scale.max && criteria[current]) {
      e.preventDefault();
      set(criteria[current], v);
      setCurrent(Math.min(current + 1, criteria.length - 1));
    }
  }, [current, props.value, props.readOnly]);
  return (
    <div class="rating-layout">
      <div class="stack rating-text">
        {data.prompt !== undefined && (
          <section aria-label="Prompt" class="prompt">
            {str(data.prompt)}
          </section>
        )}
        <section aria-label="Response" class="response">
          {str(data.response)}
        </section>
      </div>
      <div class="stack">
        {criteria.map((c, i) => (
          <fieldset key={c} class={`scale-field ${i === current && !props.readOnly ? "current" : ""}`} onFocusIn={() => setCurrent(i)}>
            <legend>
              {c} <span class="muted">({scale.min} – {scale.max})</span>
            </legend>
            <div class="scale" role="radiogroup" aria-label={c}>
              {steps.map((v) => (
                <label key={v} class="scale-step">
                  <input type="radio" name={`score-${c}`} value={v} checked={scores[c] === v} disabled={props.readOnly}
                    onChange={() => {
                      set(c, v);
                      setCurrent(Math.min(i + 1, criteria.length - 1));
                    }}
                  />
                  {v}
                </label>
              ))}
            </div>
          </fieldset>
        ))}
        {!props.readOnly && scale.max <= 9 && scale.min >= 0 && (
          <p class="hint">
            Type a score ({scale.min}–{scale.max}) to rate the highlighted criterion and move to the next.
          </p>
        )}
        <Rationale props={props} required={!!props.pool.config.rationale_required} />
        {!props.readOnly && <ReturnedComments comments={props.comments} text={str(props.value?.rationale)} />}
      </div>
    </div>
  );
}

export function DiffView({ ops, label }: { ops: DiffOp[]; label: string }) {
  const { added, removed } = diffStats(ops);
  return (
    <section aria-label={label}>
      <h3>
        {label} <span class="muted">(+{added} / −{removed} words)</span>
      </h3>
      <div class="diff">
        {ops.map((op, i) =>
          op.kind === "ins" ? <ins key={i}>{op.text}</ins> : op.kind === "del" ? <del key={i}>{op.text}</del> : <span key={i}>{op.text}</span>,
        )}
      </div>
    </section>
  );
}

export function RewriteWorkspace(props: WorkspaceProps) {
  const { data } = props.task;
  const original = str(data.response);
  const text = str(props.value?.text);
  const ops = useMemo(() => diffWords(original, text), [original, text]);
  const ref = useRef<HTMLTextAreaElement>(null);
  // The text the reviewer commented on: the value the workspace opened with.
  const [commented] = useState(text);
  useKeys((e) => {
    if (!isTyping(e) && e.key === "e" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      ref.current?.focus();
    }
  }, []);
  return (
    <div class="stack">
      {data.prompt !== undefined && (
        <section aria-label="Prompt" class="prompt">
          {str(data.prompt)}
        </section>
      )}
      {props.readOnly ? (
        <>
          <AnchoredText text={text} comments={props.comments} label="Rewritten response" onSelect={props.onAnchor && ((span) => props.onAnchor!({ span }))} />
          <DiffView ops={ops} label="Changes to the original response" />
        </>
      ) : (
        <>
          <ReturnedComments comments={props.comments} text={commented} />
          <div class="split">
            <section aria-label="Original response">
              <h3>Original response</h3>
              <div class="response">{original}</div>
            </section>
            <label class="field">
              <span class="field-label">
                Your rewrite <kbd>E</kbd>
              </span>
              <textarea ref={ref} class="editor" value={text} onInput={(e) => props.onChange({ text: e.currentTarget.value })} />
            </label>
          </div>
          <DiffView ops={ops} label="What you changed" />
        </>
      )}
    </div>
  );
}

export function ReferenceWorkspace(props: WorkspaceProps) {
  const { data } = props.task;
  const text = str(props.value?.text);
  const [commented] = useState(text);
  const [preview, setPreview] = useState(true);
  return (
    <div class="reference-layout">
      <div class="stack">
        <section aria-label="Prompt" class="prompt">
          {str(data.prompt)}
        </section>
        {props.readOnly ? (
          <AnchoredText text={text} comments={props.comments} label="Reference answer" onSelect={props.onAnchor && ((span) => props.onAnchor!({ span }))} />
        ) : (
          <>
            <ReturnedComments comments={props.comments} text={commented} />
            <div class="row between">
              <span class="muted" aria-live="polite">
                {wordCount(text)} words
              </span>
              <button type="button" aria-pressed={preview} onClick={() => setPreview(!preview)}>
                Preview
              </button>
            </div>
            <div class="split">
              <label class="field">
                <span class="field-label">Your answer (Markdown)</span>
                <textarea class="editor" value={text} onInput={(e) => props.onChange({ text: e.currentTarget.value })} />
              </label>
              {preview && (
                <section aria-label="Preview" class="response">
                  <Markdown text={text} />
                </section>
              )}
            </div>
          </>
        )}
      </div>
      <aside class="card guideline-side" aria-label="Guideline">
        <h3>Guideline</h3>
        {props.guidelines?.trim() ? <Markdown text={props.guidelines} /> : <p class="muted">No guidelines for this project.</p>}
      </aside>
    </div>
  );
}

