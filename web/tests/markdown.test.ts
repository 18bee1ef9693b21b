import { describe, expect, it } from "vitest";
import { headings, renderMarkdown, wordCount } from "../src/lib/markdown";

describe("markdown", () => {
  it("escapes HTML before formatting", () => {
    expect(renderMarkdown("<script>alert(1)</script> **bold**")).toBe("<p>&lt;script&gt;alert(1)&lt;/script&gt; <strong>bold</strong></p>");
    expect(renderMarkdown("[x](javascript:alert(1))")).not.toContain("<a");
  });

  it("renders headings, lists and code", () => {
    expect(renderMarkdown("# Boxes\n- one\n- two\n\n```\n<b>\n```")).toBe("<h3>Boxes</h3>\n<ul><li>one</li><li>two</li></ul>\n<pre><code>&lt;b&gt;</code></pre>");
  });

  it("counts words and lists headings outside code", () => {
    expect(wordCount("It's a well-known fact, 42 times.")).toBe(6);
    expect(headings("# Scope\ntext\n## Occluded people ##\n```\n# not a heading\n```\n### Lights")).toEqual(["Scope", "Occluded people", "Lights"]);
  });
});
