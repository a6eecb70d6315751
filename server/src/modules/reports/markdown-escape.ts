/**
 * Escaping for untrusted text (entity names, notes, annotations, branding) placed into GitHub-flavoured Markdown.
 * The goal is that a value shows as the characters it is and can do nothing else: not end a table cell (`|`,
 * newlines), open code (backticks), emphasis, a link or image (`[`, `]`, `!`), raw HTML or an entity (`<`, `&`),
 * math (`$`), a heading or list at the start of a line, or an autolink (`https://…`, `www.…`, `name@host`, which
 * GFM links even without brackets). Every escape is a backslash before ASCII punctuation, which CommonMark renders
 * as the character itself.
 */
const INLINE_SPECIALS = /[\\`*_[\]<>|~#&!${}]/g;
// Tabs, C0/C1 controls and the bidirectional overrides that could reorder what a reader sees.
const INVISIBLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAK = /\r\n|\r|\n|\u2028|\u2029/g;

/** One line of text: line breaks become spaces. Safe in table cells, headings and after a list marker. */
export function escapeInline(text: string): string {
  return escapeLine(text.replace(LINE_BREAK, ' '));
}

/** One line of text that starts a line of its own (a paragraph): a leading block marker is escaped too. */
export function escapeParagraph(text: string): string {
  return escapeLineStart(escapeInline(text).trimStart());
}

/**
 * Several lines, each kept as its own line inside a block quote: every line is escaped and ends in a CommonMark
 * hard break (a trailing backslash), so line structure survives without the lines turning into Markdown blocks.
 */
export function escapeQuotedLines(text: string): string {
  return text
    .split(LINE_BREAK)
    // Leading indentation would open an indented code block inside the quote.
    .map((line) => `> ${escapeLineStart(escapeLine(line.trimStart()))}`)
    .join('\\\n');
}

function escapeLine(line: string): string {
  return line
    .replace(INVISIBLE, ' ')
    .replace(INLINE_SPECIALS, (c) => `\\${c}`)
    .replace(/:\/\//g, '\\://')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`)
    .replace(/@/g, '\\@');
}

/** A list marker, ordered-list number or setext underline at the start of a line would start a block. */
function escapeLineStart(line: string): string {
  return line.replace(/^([-+=]|\d+(?=[.)]))/, (marker: string) => (/\d/.test(marker) ? `${marker}\\` : `\\${marker}`));
}
