// Reads a JSON array of {tex, display} from standard input and renders each with
// KaTeX (throwOnError). Prints a JSON array of {index, tex, error} for failures.
const katex = require("katex");

let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const spans = JSON.parse(input);
  const failures = [];
  spans.forEach((span, index) => {
    try {
      katex.renderToString(span.tex, { displayMode: span.display, throwOnError: true,
                                       strict: "error" });
    } catch (err) {
      failures.push({ index, tex: span.tex, error: String(err.message || err) });
    }
  });
  process.stdout.write(JSON.stringify(failures));
});
