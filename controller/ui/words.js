// Splits what a person typed into argv words, the way a shell would split them (quotes and
// backslashes), without ever giving it to a shell: the words go to the API as they are.
export function splitCommand(text) {
  const words = [];
  let word = '';
  let inWord = false;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += c;
    } else if (c === '\'' || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return {ok: false, error: `the command has an unclosed ${quote} quote`};
  if (inWord) words.push(word);
  if (words.length === 0) return {ok: false, error: 'the command is empty'};
  return {ok: true, words};
}
