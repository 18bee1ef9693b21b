// CSV parsing (RFC 4180) and CSV → Tessera task lines per task type.
import { describe, expect, it } from "vitest";
import { CsvError, csvToTasks, parseCsv } from "../src/lib/csv";

const lines = (jsonl: string) => jsonl.trim().split("\n").map((l) => JSON.parse(l));

describe("parseCsv", () => {
  it("splits records and fields, CRLF or LF, skipping blank lines", () => {
    expect(parseCsv("a,b\r\n1,2\n\n3,4\n")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["1", "2"] },
      { line: 4, fields: ["3", "4"] },
    ]);
  });

  it("reads quoted fields with commas, doubled quotes and embedded newlines", () => {
    const recs = parseCsv('text,n\n"Hello, ""world""",1\n"two\nlines\r\nhere",2\nlast,3');
    expect(recs.map((r) => r.fields)).toEqual([
      ["text", "n"],
      ['Hello, "world"', "1"],
      ["two\nlines\r\nhere", "2"],
      ["last", "3"],
    ]);
    // The record after a multi-line field starts on the right file line.
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 6]);
  });

  it("keeps empty fields and an empty quoted field", () => {
    expect(parseCsv('a,,""\n').map((r) => r.fields)).toEqual([["a", "", ""]]);
  });

  it("ignores a UTF-8 BOM and handles no trailing newline", () => {
    expect(parseCsv("\ufeffx,y\n1,2").map((r) => r.fields)).toEqual([
      ["x", "y"],
      ["1", "2"],
    ]);
  });

  it("names the line of an unclosed quote", () => {
    expect(() => parseCsv('a\n"ok"\n"never closed\nmore')).toThrow(/CSV line 3: a quoted field is not closed/);
  });

  it("rejects text after a closing quote and stray quotes", () => {
    expect(() => parseCsv('a,b\n"x"y,1')).toThrow(/CSV line 2: unexpected text after a closing quote/);
    expect(() => parseCsv('a,b\nx"y,1')).toThrow(/CSV line 2: a quote inside an unquoted field/);
  });
});

describe("csvToTasks", () => {
  it("pairwise: prompt,response_a,response_b → responses [a, b]", () => {
    const { jsonl, count } = csvToTasks('prompt,response_a,response_b\n"Capital of France?",Paris.,"Lyon, maybe."\n', "pairwise");
    expect(count).toBe(1);
    expect(lines(jsonl)).toEqual([{ data: { prompt: "Capital of France?", responses: ["Paris.", "Lyon, maybe."] } }]);
  });

  it("bbox: width and height become numbers; extra columns stay as metadata", () => {
    const { jsonl } = csvToTasks("image,width,height,camera\nstreet/1.jpg,640,480,front\nstreet/2.jpg, 800 ,600,rear\n", "bbox");
    expect(lines(jsonl)).toEqual([
      { data: { image: "street/1.jpg", width: 640, height: 480, camera: "front" } },
      { data: { image: "street/2.jpg", width: 800, height: 600, camera: "rear" } },
    ]);
  });

  it("classify of texts, rating and rewrite of prompt/response, reference of prompts", () => {
    expect(lines(csvToTasks('text\n"multi\nline"\n', "classify").jsonl)).toEqual([{ data: { text: "multi\nline" } }]);
    expect(lines(csvToTasks("image,width,height\na.png,10,20\n", "classify").jsonl)).toEqual([
      { data: { image: "a.png", width: 10, height: 20 } },
    ]);
    expect(lines(csvToTasks("prompt,response\nQ,A\n", "rating").jsonl)).toEqual([{ data: { prompt: "Q", response: "A" } }]);
    expect(lines(csvToTasks("prompt,response\nQ,A\n", "rewrite").jsonl)).toEqual([{ data: { prompt: "Q", response: "A" } }]);
    expect(lines(csvToTasks("prompt\nWrite a haiku\n", "reference").jsonl)).toEqual([{ data: { prompt: "Write a haiku" } }]);
  });

  it("names the line of a ragged row (counting lines inside quoted fields)", () => {
    const csv = 'prompt,response\n"a\nb",c\nonly-one-field\n';
    expect(() => csvToTasks(csv, "rewrite")).toThrow(new CsvError(4, "has 1 field, the header has 2"));
  });

  it("names the missing required columns for the pool's type", () => {
    expect(() => csvToTasks("prompt,response\nQ,A\n", "pairwise")).toThrow(
      /CSV line 1: a pairwise pool needs the columns response_a, response_b in the header row \(found: prompt, response\)/,
    );
    expect(() => csvToTasks("image,width\na.jpg,3\n", "bbox")).toThrow(/needs the column height/);
  });

  it("rejects empty required values and non-numeric sizes, naming the line", () => {
    expect(() => csvToTasks("prompt,response\nQ,A\n ,A\n", "rating")).toThrow(/CSV line 3: prompt is empty/);
    expect(() => csvToTasks("image,width,height\na.jpg,640,480\nb.jpg,640px,480\n", "bbox")).toThrow(
      /CSV line 3: width must be a positive whole number of pixels, not "640px"/,
    );
    expect(() => csvToTasks("image,width,height\na.jpg,0,480\n", "bbox")).toThrow(/CSV line 2: width must be a positive/);
  });

  it("rejects empty files, header-only files and bad headers", () => {
    expect(() => csvToTasks("", "reference")).toThrow(/CSV line 1: the file is empty/);
    expect(() => csvToTasks("prompt\n", "reference")).toThrow(/header row but no tasks/);
    expect(() => csvToTasks("prompt,prompt\na,b\n", "reference")).toThrow(/column "prompt" appears twice/);
    expect(() => csvToTasks("prompt,\na,b\n", "reference")).toThrow(/column 2 has no name/);
  });
});
