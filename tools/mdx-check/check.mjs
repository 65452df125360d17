#!/usr/bin/env node
// mdx-check: does docs/connector.mdx stay within what ConductorOne's connector
// docs renderer takes?
//
//   node tools/mdx-check/check.mjs docs/connector.mdx [more.mdx ...]
//   node tools/mdx-check/check.mjs --self-test
//
// Each problem is printed as `file:line:column: message`; the exit code is 1
// when any file has a problem, 2 for a bad command line, 0 otherwise.
//
// The file is compiled with @mdx-js/mdx (with frontmatter and GFM, as the
// renderer does), never run: nothing in the document is evaluated. Before the
// compile goes on, the Markdown tree is walked and these are reported:
//
// - a syntax error (the compiler's message, at the place it names);
// - a JSX element other than Tip, Warning, Note, Info, Icon, Frame, Card,
//   Check, Tabs, Tab, Steps and Step. That includes lowercase HTML tags such
//   as <div> or <br/>: in MDX they are JSX too, the renderer maps only those
//   twelve names, and ConductorOne's own docs validator rejects every other
//   name. Fragments (<>...</>) and member names (<A.B>) are rejected as well;
// - a `javascript:`, `vbscript:` or `data:` URL in a link, an image, a link
//   definition or any JSX attribute value, after decoding character references
//   and dropping whitespace and control characters (so `java&#115;cript:` and
//   `java\tscript:` count). Like ConductorOne's validator, the scheme is looked
//   for anywhere in the value, not only at its start, so a page that passes
//   here passes there;
// - what would make the renderer evaluate code: import/export, {expressions}
//   (including {/* comments */}), attribute expressions (a={...}), spread
//   attributes ({...props}) and on* event-handler attributes;
// - an empty file, a NUL byte or a byte order mark.
//
// Code spans and fenced code are text, so `<div>` or `javascript:` inside
// backticks is fine.

import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

import { compile } from "@mdx-js/mdx";
import remarkFrontmatter from "remark-frontmatter";
import remarkGfm from "remark-gfm";

export const ALLOWED_COMPONENTS = Object.freeze([
  "Tip",
  "Warning",
  "Note",
  "Info",
  "Icon",
  "Frame",
  "Card",
  "Check",
  "Tabs",
  "Tab",
  "Steps",
  "Step",
]);
const allowed = new Set(ALLOWED_COMPONENTS);
const DANGEROUS_SCHEMES = ["javascript:", "vbscript:", "data:"];

// Character references a URL could hide a scheme behind. Markdown link
// destinations and JSX attribute strings arrive decoded already; decoding once
// more catches double encoding (`&amp;#58;`) too.
const NAMED_REFERENCES = { colon: ":", tab: "\t", newline: "\n", amp: "&", sol: "/", lpar: "(", rpar: ")" };

function decodeReferences(text) {
  let previous;
  let current = text;
  // Bounded: each round only shortens the text, and 5 rounds cover any sane nesting.
  for (let round = 0; round < 5 && current !== previous; round++) {
    previous = current;
    current = current
      .replace(/&#x([0-9a-f]+);?/gi, (whole, hex) => codePoint(Number.parseInt(hex, 16), whole))
      .replace(/&#([0-9]+);?/g, (whole, dec) => codePoint(Number.parseInt(dec, 10), whole))
      .replace(/&([a-z]+);/gi, (whole, name) => NAMED_REFERENCES[name.toLowerCase()] ?? whole);
  }
  return current;
}

function codePoint(value, fallback) {
  return Number.isInteger(value) && value >= 0 && value <= 0x10ffff ? String.fromCodePoint(value) : fallback;
}

/** The dangerous scheme in value, if any, as a browser could read it. */
export function dangerousScheme(value) {
  const squeezed = decodeReferences(String(value))
    .replace(/[\s\p{C}]/gu, "")
    .toLowerCase();
  return DANGEROUS_SCHEMES.find((scheme) => squeezed.includes(scheme));
}

function where(node) {
  const start = node?.position?.start;
  return { line: start?.line ?? 1, column: start?.column ?? 1 };
}

function describeName(name) {
  return `<${name}>`;
}

// The remark plugin that walks the Markdown tree and records problems.
function collectProblems(problems) {
  const report = (node, message) => problems.push({ ...where(node), message });

  const checkUrl = (node, what) => {
    const scheme = dangerousScheme(node.url ?? "");
    if (scheme) {
      report(node, `${scheme} URL in ${what} (${JSON.stringify(node.url)}): only http(s), mailto and relative links are safe to render`);
    }
  };

  const checkAttributes = (node) => {
    for (const attribute of node.attributes ?? []) {
      const at = attribute.position ? attribute : node;
      if (attribute.type === "mdxJsxExpressionAttribute") {
        report(at, `spread attribute {${attribute.value}} on ${describeName(node.name)}: the renderer evaluates no expressions`);
        continue;
      }
      const name = String(attribute.name ?? "");
      if (/^on/i.test(name)) {
        report(at, `event handler attribute ${name} on ${describeName(node.name)} is not allowed`);
      }
      if (attribute.value && typeof attribute.value === "object") {
        report(at, `attribute ${name}={...} on ${describeName(node.name)} is an expression: use a quoted string`);
        continue;
      }
      if (typeof attribute.value === "string") {
        const scheme = dangerousScheme(attribute.value);
        if (scheme) {
          report(at, `${scheme} in attribute ${name} of ${describeName(node.name)} (${JSON.stringify(attribute.value)})`);
        }
      }
    }
  };

  const checkElement = (node) => {
    const name = node.name;
    if (!name) {
      report(node, `JSX fragment <>...</> is not allowed: use one of the components ${ALLOWED_COMPONENTS.join(", ")}`);
    } else if (!allowed.has(name)) {
      const kind = /^[a-z]/.test(name) ? "HTML element" : "component";
      report(node, `${kind} ${describeName(name)} is not allowed: ConductorOne's docs renderer has only ${ALLOWED_COMPONENTS.join(", ")}`);
    }
    checkAttributes(node);
  };

  const visit = (node) => {
    switch (node.type) {
      case "mdxjsEsm":
        report(node, "import/export is not allowed: the renderer evaluates no code");
        break;
      case "mdxFlowExpression":
      case "mdxTextExpression":
        report(node, "{...} expression is not allowed (MDX comments {/* */} are expressions too): write `{` as \\{ or in backticks");
        break;
      case "mdxJsxFlowElement":
      case "mdxJsxTextElement":
        checkElement(node);
        break;
      case "html":
        report(node, "raw HTML is not allowed");
        break;
      case "link":
        checkUrl(node, "a link");
        break;
      case "image":
        checkUrl(node, "an image");
        break;
      case "definition":
        checkUrl(node, "a link definition");
        break;
    }
    for (const child of node.children ?? []) {
      visit(child);
    }
  };

  return () => (tree) => {
    visit(tree);
  };
}

// Where a compile error points: its place, else the first `(line:column` its
// text names (an unclosed tag is reported that way), else the top of the file.
function errorPlace(error) {
  const place = error?.place;
  const point = place?.start ?? place;
  if (point?.line) {
    return { line: point.line, column: point.column ?? 1 };
  }
  if (error?.line) {
    return { line: error.line, column: error.column ?? 1 };
  }
  const named = /\((\d+):(\d+)/.exec(String(error?.reason ?? error?.message ?? ""));
  if (named) {
    return { line: Number(named[1]), column: Number(named[2]) };
  }
  return { line: 1, column: 1 };
}

function lineOf(text, index) {
  const before = text.slice(0, index);
  const line = before.split("\n").length;
  return { line, column: index - before.lastIndexOf("\n") };
}

/** Problems in one MDX source, each { line, column, message }, in file order. */
export async function checkSource(source) {
  if (source.trim() === "") {
    return [{ line: 1, column: 1, message: "the file is empty" }];
  }
  const problems = [];
  if (source.startsWith("\ufeff")) {
    problems.push({ line: 1, column: 1, message: "byte order mark at the start of the file: save it as UTF-8 without BOM" });
  }
  const nul = source.indexOf("\0");
  if (nul >= 0) {
    problems.push({ ...lineOf(source, nul), message: "NUL byte in the file" });
  }
  try {
    await compile(source, {
      remarkPlugins: [remarkFrontmatter, remarkGfm, collectProblems(problems)],
    });
  } catch (error) {
    const reason = String(error?.reason ?? error?.message ?? error);
    problems.push({ ...errorPlace(error), message: `MDX syntax error: ${reason}` });
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function annotate(path, problem) {
  if (process.env.GITHUB_ACTIONS === "true") {
    const message = problem.message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    console.log(`::error file=${path},line=${problem.line},col=${problem.column}::${message}`);
  }
}

async function checkFiles(paths) {
  let failed = 0;
  for (const path of paths) {
    let source;
    try {
      source = await readFile(path, "utf8");
    } catch (error) {
      console.error(`${path}: cannot read: ${error.message}`);
      failed++;
      continue;
    }
    const problems = await checkSource(source);
    for (const problem of problems) {
      console.error(`${path}:${problem.line}:${problem.column}: ${problem.message}`);
      annotate(path, problem);
    }
    if (problems.length > 0) {
      failed++;
      console.error(`mdx-check: ${path}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    } else {
      console.log(`mdx-check: ${path}: ok`);
    }
  }
  return failed === 0 ? 0 : 1;
}

// Self-test: sources that must pass, and sources that must fail with the given
// problems (line and a pattern of the message), so a change to the checker or
// to the MDX packages that stops it catching one of them fails `make docs-check`.
const SELF_TESTS = [
  {
    name: "every allowed component, tables, links and code pass",
    source: [
      "---",
      'title: "A page"',
      "---",
      "",
      "## Section",
      "",
      "| A | B |",
      "| :--- | :--- |",
      '| x | <Icon icon="square-check" iconType="solid" color="#65DE23"/> |',
      "",
      '<Tip>tip</Tip> <Warning>w</Warning> <Note>n</Note> <Info>i</Info> <Check>c</Check>',
      "",
      '<Frame>![a picture](/images/a.png)</Frame>',
      "",
      '<Card title="Card" href="https://example.com/data">card</Card>',
      "",
      '<Tabs><Tab title="One">one</Tab></Tabs>',
      "",
      "<Steps>",
      '<Step title="First">',
      "Do [this](https://example.com), [that](/product/admin) or [mail](mailto:a@example.com).",
      "</Step>",
      "</Steps>",
      "",
      "Text may say javascript: or data: outside links, and `<div>{x}</div>` or `javascript:x` in code.",
      "",
      "```html",
      '<div onclick="x">{y}</div> <a href="javascript:alert(1)">',
      "```",
      "",
    ].join("\n"),
    expect: [],
  },
  {
    name: "unknown component",
    source: "# Title\n\n<Accordion>hidden</Accordion>\n",
    expect: [[3, /component <Accordion> is not allowed/]],
  },
  {
    name: "plain HTML element",
    source: "Line one.\n\n<div>boxed</div>\n\nand a <br/> inline\n",
    expect: [[3, /HTML element <div> is not allowed/], [5, /HTML element <br> is not allowed/]],
  },
  {
    name: "fragment and member name",
    source: "<>x</>\n\n<Tabs.Tab>y</Tabs.Tab>\n",
    expect: [[1, /fragment/], [3, /component <Tabs\.Tab> is not allowed/]],
  },
  {
    name: "javascript: link",
    source: "Intro.\n\nClick [here](javascript:alert(1)).\n",
    expect: [[3, /javascript: URL in a link/]],
  },
  {
    name: "entity-encoded and spaced javascript: link",
    source: "[a](java&#115;cript:alert(1))\n\n[b](<java\tscript:alert(1)>)\n",
    expect: [[1, /javascript: URL in a link/], [3, /javascript: URL in a link/]],
  },
  {
    name: "data: image and link definition",
    source: "![x](data:image/png;base64,AAAA)\n\n[ref]: vbscript:msgbox\n\nSee [ref].\n",
    expect: [[1, /data: URL in an image/], [3, /vbscript: URL in a link definition/]],
  },
  {
    name: "javascript: in a JSX attribute",
    source: 'Text.\n\n<Card title="x" href="JavaScript:alert(1)">y</Card>\n',
    expect: [[3, /javascript: in attribute href of <Card>/]],
  },
  {
    name: "expressions, attribute expressions, spreads, event handlers",
    source: 'Sum {1 + 1}.\n\n{/* a comment */}\n\n<Card title={name} {...props} onClick="x">y</Card>\n',
    expect: [
      [1, /expression is not allowed/],
      [3, /expression is not allowed/],
      [5, /attribute title=\{\.\.\.\} on <Card> is an expression/],
      [5, /spread attribute/],
      [5, /event handler attribute onClick/],
    ],
  },
  {
    name: "import and export",
    source: "import Thing from './thing.js'\n\nexport const x = 1\n\nText.\n",
    expect: [[1, /import\/export/], [3, /import\/export/]],
  },
  {
    name: "broken syntax: unclosed component",
    source: "# Title\n\n<Warning>\nnever closed\n",
    expect: [[3, /MDX syntax error: Expected a closing tag for `<Warning>`/]],
  },
  {
    name: "broken syntax: mismatched closing tag",
    source: "<Tip>\n\ntext\n\n</Note>\n",
    expect: [[5, /MDX syntax error: Unexpected closing tag `<\/Note>`/]],
  },
  {
    name: "broken syntax: HTML comment",
    source: "Fine.\n\n<!-- a comment -->\n",
    expect: [[3, /MDX syntax error: .*comment/]],
  },
  {
    name: "broken syntax: unclosed attribute quote",
    source: 'Fine.\n\n<Tab title="x>\n',
    expect: [[4, /MDX syntax error: .*closing quote/]], // reported at the end of the file
  },
  {
    name: "byte order mark and NUL byte",
    source: "\ufeffText\n\nmore\0\n",
    expect: [[1, /byte order mark/], [3, /NUL byte/]],
  },
  {
    name: "empty file",
    source: " \n\n",
    expect: [[1, /empty/]],
  },
];

async function selfTest() {
  let failures = 0;
  for (const test of SELF_TESTS) {
    const got = await checkSource(test.source);
    const want = test.expect;
    const mismatch =
      got.length !== want.length ||
      want.some(([line, pattern], i) => got[i].line !== line || !pattern.test(got[i].message));
    if (mismatch) {
      failures++;
      console.error(`mdx-check self-test FAILED: ${test.name}`);
      console.error(`  want: ${want.map(([line, pattern]) => `${line}: ${pattern}`).join(" | ") || "no problems"}`);
      console.error(`  got:  ${got.map((p) => `${p.line}:${p.column}: ${p.message}`).join(" | ") || "no problems"}`);
    }
  }
  if (failures > 0) {
    console.error(`mdx-check self-test: ${failures} of ${SELF_TESTS.length} cases wrong`);
    return 1;
  }
  console.log(`mdx-check self-test: all ${SELF_TESTS.length} cases behave as expected`);
  return 0;
}

async function main(args) {
  if (args.length === 1 && args[0] === "--self-test") {
    return selfTest();
  }
  if (args.length === 0 || args.some((arg) => arg.startsWith("-"))) {
    console.error("usage: check.mjs FILE.mdx [FILE.mdx ...] | check.mjs --self-test");
    return 2;
  }
  return checkFiles(args);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
