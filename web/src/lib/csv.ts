// CSV (RFC 4180) parsing in the browser, and CSV rows → Tessera task JSONL lines
// for a pool's task type (the header row names the data fields).
import type { TaskType } from "../api";

/** A CSV problem, naming the line of the file where it is (1-based). */
export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`CSV line ${line}: ${message}`);
  }
}

export interface CsvRecord {
  /** The file line the record starts on (1-based). */
  line: number;
  fields: string[];
}

/**
 * Splits CSV text into records: fields separated by commas, records by CRLF or
 * LF; a quoted field may hold commas, line breaks and doubled quotes ("").
 * Blank lines are skipped. A leading UTF-8 BOM is ignored.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = "";
  let recordLine = 1;
  let quotedField = false; // the current field was quoted
  let any = false; // the current record has any content
  const n = text.length;
  const endField = () => {
    fields.push(field);
    field = "";
    quotedField = false;
  };
  const endRecord = () => {
    endField();
    if (any || fields.length > 1) records.push({ line: recordLine, fields });
    fields = [];
    any = false;
  };
  while (i < n) {
    const c = text[i];
    if (c === '"' && field === "" && !quotedField) {
      // A quoted field: read up to the closing quote.
      const start = line;
      quotedField = true;
      any = true;
      i++;
      for (;;) {
        if (i >= n) throw new CsvError(start, "a quoted field is not closed (missing \")");
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      // After the closing quote: a separator, a line end or the end.
      const after = text[i];
      if (i < n && after !== "," && after !== "\n" && after !== "\r") {
        throw new CsvError(line, "unexpected text after a closing quote (write a quote inside a quoted field as \"\")");
      }
      continue;
    }
    if (c === ",") {
      endField();
      any = true;
      i++;
    } else if (c === "\r" || c === "\n") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      recordLine = line;
    } else {
      if (quotedField) throw new CsvError(line, "unexpected text after a closing quote");
      if (c === '"') throw new CsvError(line, "a quote inside an unquoted field (quote the whole field and double the quote)");
      field += c;
      any = true;
      i++;
    }
  }
  if (any || field !== "" || fields.length > 0) endRecord();
  return records;
}

/** What a CSV for each task type must have (beyond that, columns are kept as metadata). */
export const CSV_COLUMNS: Record<TaskType, string> = {
  bbox: "image,width,height",
  classify: "text (or image,width,height)",
  pairwise: "prompt,response_a,response_b",
  rating: "prompt,response",
  rewrite: "prompt,response",
  reference: "prompt",
};

const INTEGER_COLUMNS = new Set(["width", "height"]);

function requiredColumns(type: TaskType, header: string[]): string[] {
  switch (type) {
    case "bbox":
      return ["image", "width", "height"];
    case "classify":
      return header.includes("image") ? ["image", "width", "height"] : ["text"];
    case "pairwise":
      return ["prompt", "response_a", "response_b"];
    case "rating":
    case "rewrite":
      return ["prompt", "response"];
    case "reference":
      return ["prompt"];
  }
}

export interface CsvTasks {
  /** Tessera task JSONL, one `{"data": ...}` line per CSV row. */
  jsonl: string;
  count: number;
}

/**
 * Turns a CSV file into Tessera task lines for a pool of `type`. The header
 * row names the data fields; for pairwise pools `response_a,response_b` become
 * `responses: [a, b]`; `width` and `height` become numbers. Throws CsvError
 * naming the line for ragged rows, missing columns or empty required values.
 */
export function csvToTasks(text: string, type: TaskType): CsvTasks {
  const records = parseCsv(text);
  if (records.length === 0) throw new CsvError(1, "the file is empty");
  const head = records[0];
  const header = head.fields.map((h) => h.trim());
  const seen = new Set<string>();
  header.forEach((h, k) => {
    if (!h) throw new CsvError(head.line, `column ${k + 1} has no name in the header row`);
    if (seen.has(h)) throw new CsvError(head.line, `column "${h}" appears twice in the header row`);
    seen.add(h);
  });
  const required = requiredColumns(type, header);
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length) {
    throw new CsvError(
      head.line,
      `a ${type} pool needs the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} in the header row (found: ${header.join(", ")})`,
    );
  }
  if (records.length === 1) throw new CsvError(head.line, "the file has a header row but no tasks");
  const lines: string[] = [];
  for (const rec of records.slice(1)) {
    if (rec.fields.length !== header.length) {
      throw new CsvError(rec.line, `has ${rec.fields.length} field${rec.fields.length === 1 ? "" : "s"}, the header has ${header.length}`);
    }
    const data: Record<string, unknown> = {};
    const responses: string[] = [];
    header.forEach((col, k) => {
      const value = rec.fields[k];
      if (required.includes(col) && value.trim() === "") throw new CsvError(rec.line, `${col} is empty`);
      if (type === "pairwise" && (col === "response_a" || col === "response_b")) {
        responses[col === "response_a" ? 0 : 1] = value;
        return;
      }
      if (INTEGER_COLUMNS.has(col) && (required.includes(col) || value.trim() !== "")) {
        const t = value.trim();
        if (!/^\d+$/.test(t) || Number(t) < 1) throw new CsvError(rec.line, `${col} must be a positive whole number of pixels, not "${value}"`);
        data[col] = Number(t);
        return;
      }
      data[col] = value;
    });
    if (type === "pairwise") data.responses = responses;
    lines.push(JSON.stringify({ data }));
  }
  return { jsonl: lines.join("\n") + "\n", count: lines.length };
}
