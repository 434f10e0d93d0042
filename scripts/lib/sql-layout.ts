/**
 * A reviewer's layout of drizzle's one-line SQL (for sql/statements.sql): whitespace outside quoted parts
 * collapsed, each clause on a line of its own, indented by how deep in parentheses it stands. Quoted
 * identifiers ("...") and literals ('...', '' inside) are copied as they are. It only lays out: the
 * words, and their order, are drizzle's.
 */

/** Clauses that start a line, longest first so `left join lateral` wins over `left join`. */
const CLAUSES = [
  'left join lateral',
  'for no key update',
  'for update',
  'do update',
  'insert into',
  'delete from',
  'on conflict',
  'left join',
  'inner join',
  'cross join',
  'order by',
  'group by',
  'returning',
  'select',
  'update',
  'values',
  'offset',
  'limit',
  'where',
  'from',
  'with',
  'set',
].sort((a, b) => b.length - a.length);

/** Phrases whose words would otherwise start clauses, copied as they are. */
const PHRASES = ['is not distinct from', 'is distinct from', 'epoch from'];

const isWordCharacter = (character: string | undefined) => character !== undefined && /[\w$]/.test(character);

/** The word or words of `words` that start at `index` of `text`, if any do as whole words. */
function wordsAt(text: string, index: number, words: string[]): string | undefined {
  if (isWordCharacter(text[index - 1])) return undefined;
  const rest = text.slice(index, index + 24).toLowerCase();
  return words.find((word) => rest.startsWith(word) && !isWordCharacter(text[index + word.length]));
}

export function layOutSql(text: string): string {
  let out = '';
  let depth = 0;
  let pendingSpace = false;
  for (let index = 0; index < text.length;) {
    const character = text[index]!;
    if (character === "'" || character === '"') {
      // Copy the quoted part whole; a doubled quote inside it is an escaped one.
      let end = index + 1;
      while (end < text.length) {
        if (text[end] === character) {
          if (text[end + 1] === character) end += 2;
          else break;
        } else end++;
      }
      if (pendingSpace && out !== '' && !out.endsWith('(')) out += ' ';
      pendingSpace = false;
      out += text.slice(index, end + 1);
      index = end + 1;
      continue;
    }
    if (/\s/.test(character)) {
      pendingSpace = true;
      index++;
      continue;
    }
    const phrase = wordsAt(text, index, PHRASES);
    if (phrase !== undefined) {
      if (pendingSpace && out !== '' && !out.endsWith('(')) out += ' ';
      pendingSpace = false;
      out += text.slice(index, index + phrase.length);
      index += phrase.length;
      continue;
    }
    const clause = wordsAt(text, index, CLAUSES);
    if (clause !== undefined) {
      out = out.trimEnd();
      if (out !== '') out += `\n${'  '.repeat(depth)}`;
      out += text.slice(index, index + clause.length);
      pendingSpace = false;
      index += clause.length;
      continue;
    }
    if (character === ')') depth = Math.max(0, depth - 1);
    if (pendingSpace && out !== '' && !out.endsWith('(') && !out.endsWith('\n') && character !== ')') out += ' ';
    pendingSpace = false;
    if (character === '(') depth++;
    out += character;
    index++;
  }
  return out;
}
