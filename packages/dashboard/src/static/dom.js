// DOM building blocks shared by every view. Text is always inserted as text, never as HTML:
// mailbox names, reply texts and subjects come from outside and may hold markup.

/** Builds an element; children are nodes or strings (always inserted as text, never as HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    // Through the CSSOM: the coordinator's Content-Security-Policy forbids inline style attributes.
    else if (name === 'style') Object.assign(node.style, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/**
 * A table whose cells carry their column's label (`data-label`), so that on a narrow screen the
 * stylesheet can stack each row as label/value lines instead of overflowing sideways.
 * `columns`: `[{ label, cell(row) → node | string, class?(row) → string, title?(row) → string }]`;
 * `rowAttributes(row)` gives the attributes of each `<tr>`.
 */
export function dataTable(className, columns, rows, rowAttributes = () => ({})) {
  return el('table', { class: `data-table ${className}` },
    el('thead', {}, el('tr', {}, columns.map((column) => el('th', {}, column.label)))),
    el('tbody', {}, rows.map((row) => el('tr', rowAttributes(row), columns.map((column) =>
      el('td', { 'data-label': column.label, class: column.class?.(row), title: column.title?.(row) }, column.cell(row)))))));
}
