// Renders program output with its ANSI colours (SGR: bold, dim, italic, underline, 8, 16, 256
// and 24-bit colours) into a <pre>, as text: every piece goes in as a text node inside a
// <span>, styled by class or by a computed colour. Other escape sequences (cursor moves,
// titles) are dropped. A sequence split across two chunks is kept until the rest arrives.

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
const LIMIT = 2 * 1024 * 1024;  // characters shown per run; beyond, the download has it all

function color256(n) {
  if (n < 16) return null;
  if (n >= 232) {
    const level = 8 + (n - 232) * 10;
    return `rgb(${level},${level},${level})`;
  }
  const i = n - 16;
  const step = (v) => (v === 0 ? 0 : 55 + v * 40);
  return `rgb(${step(Math.floor(i / 36))},${step(Math.floor(i / 6) % 6)},${step(i % 6)})`;
}

export class AnsiRenderer {
  constructor(pre, onLimit) {
    this.pre = pre;
    this.onLimit = onLimit;
    this.reset();
  }

  reset() {
    this.pre.replaceChildren();
    this.pending = '';
    this.shown = 0;
    this.cut = false;
    this.style = {bold: false, dim: false, italic: false, underline: false,
      fg: null, bg: null, fgRgb: null, bgRgb: null};
  }

  write(text, stream) {
    if (this.cut) return;
    let data = this.pending + text.replace(/\r\n/g, '\n');
    this.pending = '';
    let start = 0;
    let i = 0;
    while (i < data.length) {
      if (data[i] !== '\x1b') { i++; continue; }
      this.emit(data.slice(start, i), stream);
      const end = this.sequenceEnd(data, i);
      if (end < 0) {  // incomplete: wait for the next chunk
        this.pending = data.slice(i);
        return;
      }
      const sequence = data.slice(i, end);
      if (sequence.startsWith('\x1b[') && sequence.endsWith('m')) this.apply(sequence.slice(2, -1));
      i = end;
      start = i;
    }
    this.emit(data.slice(start), stream);
  }

  // Where the escape sequence starting at i ends (exclusive), or -1 if it has not ended yet.
  sequenceEnd(data, i) {
    if (i + 1 >= data.length) return -1;
    const kind = data[i + 1];
    if (kind === '[') {
      for (let j = i + 2; j < data.length; j++) {
        const code = data.charCodeAt(j);
        if (code >= 0x40 && code <= 0x7e) return j + 1;
        if (j - i > 64) return j;  // not a sequence after all: drop what was read
      }
      return -1;
    }
    if (kind === ']') {
      for (let j = i + 2; j < data.length; j++) {
        if (data[j] === '\x07') return j + 1;
        if (data[j] === '\x1b' && data[j + 1] === '\\') return j + 2;
        if (j - i > 512) return j;
      }
      return -1;
    }
    return i + 2;
  }

  apply(parameters) {
    const codes = parameters === '' ? [0] : parameters.split(';').map((p) => Number(p) || 0);
    const s = this.style;
    for (let k = 0; k < codes.length; k++) {
      const c = codes[k];
      if (c === 0) Object.assign(s, {bold: false, dim: false, italic: false, underline: false,
        fg: null, bg: null, fgRgb: null, bgRgb: null});
      else if (c === 1) s.bold = true;
      else if (c === 2) s.dim = true;
      else if (c === 3) s.italic = true;
      else if (c === 4) s.underline = true;
      else if (c === 22) { s.bold = false; s.dim = false; }
      else if (c === 23) s.italic = false;
      else if (c === 24) s.underline = false;
      else if (c >= 30 && c <= 37) { s.fg = BASIC[c - 30]; s.fgRgb = null; }
      else if (c >= 90 && c <= 97) { s.fg = `bright-${BASIC[c - 90]}`; s.fgRgb = null; }
      else if (c === 39) { s.fg = null; s.fgRgb = null; }
      else if (c >= 40 && c <= 47) { s.bg = BASIC[c - 40]; s.bgRgb = null; }
      else if (c >= 100 && c <= 107) { s.bg = `bright-${BASIC[c - 100]}`; s.bgRgb = null; }
      else if (c === 49) { s.bg = null; s.bgRgb = null; }
      else if (c === 38 || c === 48) {
        const foreground = c === 38;
        let value = null;
        let name = null;
        if (codes[k + 1] === 5) {
          const n = codes[k + 2] ?? 0;
          if (n < 16) name = n < 8 ? BASIC[n] : `bright-${BASIC[n - 8]}`;
          else value = color256(n);
          k += 2;
        } else if (codes[k + 1] === 2) {
          const [r, g, b] = [codes[k + 2], codes[k + 3], codes[k + 4]].map((v) => Math.min(255, v ?? 0));
          value = `rgb(${r},${g},${b})`;
          k += 4;
        }
        if (foreground) { s.fg = name; s.fgRgb = value; } else { s.bg = name; s.bgRgb = value; }
      }
    }
  }

  emit(text, stream) {
    if (!text) return;
    if (this.shown + text.length > LIMIT) {
      text = text.slice(0, LIMIT - this.shown);
      this.cut = true;
    }
    this.shown += text.length;
    const s = this.style;
    const classes = [];
    if (stream === 'stderr') classes.push('stderr');
    if (s.bold) classes.push('ansi-bold');
    if (s.dim) classes.push('ansi-dim');
    if (s.italic) classes.push('ansi-italic');
    if (s.underline) classes.push('ansi-underline');
    if (s.fg) classes.push(`ansi-fg-${s.fg}`);
    if (s.bg) classes.push(`ansi-bg-${s.bg}`);
    const last = this.pre.lastChild;
    if (classes.length === 0 && !s.fgRgb && !s.bgRgb) {
      this.pre.append(document.createTextNode(text));
    } else if (last && last.nodeType === 1 && last.className === classes.join(' ') &&
               !last.style.color && !last.style.backgroundColor && !s.fgRgb && !s.bgRgb) {
      last.append(document.createTextNode(text));
    } else {
      const span = document.createElement('span');
      span.className = classes.join(' ');
      if (s.fgRgb) span.style.color = s.fgRgb;       // CSSOM, allowed by the CSP
      if (s.bgRgb) span.style.backgroundColor = s.bgRgb;
      span.textContent = text;
      this.pre.append(span);
    }
    if (this.cut && this.onLimit) this.onLimit();
  }
}
