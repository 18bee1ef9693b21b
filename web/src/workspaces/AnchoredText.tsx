// Text with reviewer comments highlighted where they are anchored (character
// spans), and, for reviewers, selecting a span to anchor a new comment.
import { useRef } from "preact/hooks";
import type { Anchor, Comment } from "../api";

type Span = { start: number; end: number };

export function spanOf(anchor: Anchor | undefined): Span | null {
  return anchor && "span" in anchor ? anchor.span : null;
}

/** Splits `text` at comment boundaries: each piece with the comment numbers covering it. */
export function segments(text: string, comments: Comment[]): { text: string; start: number; notes: number[] }[] {
  const cuts = new Set([0, text.length]);
  comments.forEach((c) => {
    const s = spanOf(c.anchor);
    if (s) {
      cuts.add(Math.min(s.start, text.length));
      cuts.add(Math.min(s.end, text.length));
    }
  });
  const points = [...cuts].sort((a, b) => a - b);
  const out: { text: string; start: number; notes: number[] }[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    if (a === b) continue;
    const notes: number[] = [];
    comments.forEach((c, n) => {
      const s = spanOf(c.anchor);
      if (s && s.start <= a && b <= s.end && s.start < s.end) notes.push(n + 1);
    });
    out.push({ text: text.slice(a, b), start: a, notes });
  }
  return out;
}

/** The selected character range inside `root`, or null. */
function selectionIn(root: HTMLElement): Span | null {
  const sel = window.getSelection();
  if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
  const range = sel.getRangeAt(0);
  if (!root.contains(range.startContainer) || !root.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(root);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  return { start, end: start + range.toString().length };
}

export function AnchoredText({
  text,
  comments = [],
  onSelect,
  label,
}: {
  text: string;
  comments?: Comment[];
  onSelect?: (s: Span) => void;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const pick = () => {
    if (!onSelect || !ref.current) return;
    const s = selectionIn(ref.current);
    if (s && s.end > s.start) onSelect(s);
  };
  return (
    <div ref={ref} class="anchored-text" aria-label={label} role="document" onMouseUp={pick} onKeyUp={pick} tabIndex={onSelect ? 0 : undefined}>
      {segments(text, comments).map((seg) =>
        seg.notes.length ? (
          <mark key={seg.start} class="comment-mark" data-n={seg.notes.join(",")} title={seg.notes.map((n) => comments[n - 1].text).join("\n")}>
            {seg.text}
          </mark>
        ) : (
          <span key={seg.start}>{seg.text}</span>
        ),
      )}
    </div>
  );
}

/** The list of comments, each quoting the text it points at. */
export function CommentList({ comments, text, title = "Reviewer comments" }: { comments: Comment[]; text?: string; title?: string }) {
  if (!comments.length) return null;
  return (
    <section aria-label={title} class="comments">
      <h3>{title}</h3>
      {comments.map((c, i) => {
        const s = spanOf(c.anchor);
        const box = c.anchor && "box" in c.anchor ? c.anchor.box : null;
        return (
          <div class="comment" key={i}>
            <strong>{i + 1}.</strong>{" "}
            {s && text !== undefined && <q class="muted">{text.slice(s.start, s.end)}</q>}
            {box !== null && <span class="muted">on box {box + 1}</span>} {c.text}
          </div>
        );
      })}
    </section>
  );
}
