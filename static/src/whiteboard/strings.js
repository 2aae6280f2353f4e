// User-visible text comes from the page (translated by the server), never from this code.
// The page puts a JSON object in <script type="application/json" id="whiteboard-strings">
// (allowed by the CSP, since it is data, not script); README.md lists the keys.

/** Replace {name} placeholders with values. */
export function format(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Return a lookup `t(key, values)` over the strings; a missing key shows the key itself. */
export function makeStrings(table) {
  const warned = new Set();
  return (key, values) => {
    const template = table[key];
    if (typeof template !== "string") {
      if (!warned.has(key)) console.warn(`whiteboard: no string "${key}" on the page`);
      warned.add(key);
      return key;
    }
    return format(template, values);
  };
}

/** Read the strings of a whiteboard root from the JSON script it names (or the default). */
export function readStrings(root, doc = document) {
  const id = root.dataset.strings || "whiteboard-strings";
  const script = doc.getElementById(id);
  try {
    return makeStrings(JSON.parse(script?.textContent || "{}"));
  } catch {
    console.warn(`whiteboard: #${id} is not valid JSON`);
    return makeStrings({});
  }
}
