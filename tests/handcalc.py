"""An independent hand calculation of a rounded-carry page, from its written values only.

It knows nothing of the package. It reads the page's setup (the data, the starting
parameters as written, the decimals, the kernel, what the M-step updates), redoes the
hand calculation with exact fractions (exp, log and sqrt to 50 digits with mpmath), by the
rule the page states: every value written down is rounded to the decimals, ties away
from zero, and a value too small for them keeps two significant digits; products and
sums inside one written expression are not rounded. Then it reads every number the page
prints for the E-steps, M-steps, conclusions, summary, final parameters and clustering,
and lists each one that differs from the hand calculation.

The rules, as a student follows them (one E-step and one M-step):

- exponent e_nk = -(x_n - mu_k)^2 / (2 sigma_k^2); normalising constant
  c_k = 1 / sqrt(2 pi sigma_k^2); density N_nk = c_k exp(e_nk) (proportional kernel:
  exp(e_nk));
- p(x_n) = sum_k pi_k N_nk; r_nk = pi_k N_nk / p(x_n); log p(x_n);
- l = sum_n log p(x_n) (proportional kernel: N log c + sum_n log p(x_n), log c =
  -log(2 pi sigma^2) / 2);
- N_k = sum_n r_nk; pi_k = N_k / N; S_k = sum_n r_nk x_n; mu_k = S_k / N_k;
  Q_k = sum_n r_nk (x_n - mu_k)^2 with the new mu_k; sigma_k^2 = Q_k / N_k.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath

mpmath.mp.dps = 50


# --------------------------------------------------------------------------- arithmetic

def carry(value: Fraction, decimals: int) -> Fraction:
    """*value* rounded as the page's rule says: to *decimals* decimals, ties away from
    zero; a non-zero value that would round to 0 to two significant digits."""
    if value == 0:
        return value
    sign = 1 if value > 0 else -1
    size = abs(value)
    if size < Fraction(5, 10 ** (decimals + 1)):
        # 10^exponent <= size < 10^(exponent + 1), from the lengths of its digits
        exponent = int((size.numerator.bit_length() - size.denominator.bit_length())
                       * 0.30103)
        while _power(exponent) > size:
            exponent -= 1
        while _power(exponent + 1) <= size:
            exponent += 1
        quantum = Fraction(10) ** (exponent - 1)
    else:
        quantum = Fraction(1, 10 ** decimals)
    units = size / quantum
    whole = units.numerator // units.denominator
    if units - whole >= Fraction(1, 2):
        whole += 1
    return sign * whole * quantum


def _power(exponent: int) -> Fraction:
    return Fraction(10 ** exponent) if exponent >= 0 else Fraction(1, 10 ** -exponent)


def _mp(value: Fraction) -> mpmath.mpf:
    return mpmath.mpf(value.numerator) / value.denominator


class OutOfRange(Exception):
    """A density below 10^-2000 (a component collapsing onto a point): no fraction of
    ours holds it in reasonable time, and no class problem has one."""


def exp(value: Fraction) -> Fraction:
    if value < -4600:
        raise OutOfRange(f"exp({float(value):g})")
    return _from_mp(mpmath.exp(_mp(value)))


def log(value: Fraction) -> Fraction:
    return _from_mp(mpmath.log(_mp(value)))


def sqrt(value: Fraction) -> Fraction:
    return _from_mp(mpmath.sqrt(_mp(value)))


def _from_mp(x: mpmath.mpf) -> Fraction:
    """A 50-digit value as a fraction of its 45 leading digits (a transcendental value
    is no tie at a printed digit; at 10^-40000 this is still a short decimal)."""
    return Fraction(mpmath.nstr(x, 45, min_fixed=1, max_fixed=0))


PI = _from_mp(mpmath.pi)


# --------------------------------------------------------------------------- the run

@dataclass
class Problem:
    data: list[Fraction]
    weights: list[Fraction]
    means: list[Fraction]
    variances: list[Fraction]
    decimals: int
    kernel: str  # normalized or proportional
    update: set[str]


@dataclass
class EStep:
    exponent: list[list[Fraction]]
    density: list[list[Fraction]]
    mixture: list[Fraction]
    resp: list[list[Fraction]]
    log_mixture: list[Fraction]
    log_c: Fraction | None
    log_likelihood: Fraction


@dataclass
class MStep:
    nk: list[Fraction]
    sum_rx: list[Fraction]
    sum_rsq: list[Fraction]
    weights: list[Fraction]
    means: list[Fraction]
    variances: list[Fraction]


def e_step(p: Problem, weights, means, variances) -> EStep:
    d, K = p.decimals, len(weights)
    R = lambda v: carry(v, d)  # noqa: E731
    norm = [R(1 / sqrt(2 * PI * v)) for v in variances]
    exponent, density, mixture, resp, log_mixture = [], [], [], [], []
    for x in p.data:
        e = [R(-(x - means[k]) ** 2 / (2 * variances[k])) for k in range(K)]
        dens = [R(exp(e[k]) if p.kernel == "proportional" else norm[k] * exp(e[k]))
                for k in range(K)]
        mix = R(sum(weights[k] * dens[k] for k in range(K)))
        exponent.append(e)
        density.append(dens)
        mixture.append(mix)
        resp.append([R(weights[k] * dens[k] / mix) for k in range(K)])
        log_mixture.append(R(log(mix)))
    total = sum(log_mixture)
    log_c = None
    if p.kernel == "proportional":
        log_c = R(-log(2 * PI * variances[0]) / 2)
        total += len(p.data) * log_c
    return EStep(exponent, density, mixture, resp, log_mixture, log_c, total)


def m_step(p: Problem, e: EStep, weights, means, variances) -> MStep:
    d, K, N = p.decimals, len(weights), len(p.data)
    R = lambda v: carry(v, d)  # noqa: E731
    nk = [R(sum(e.resp[n][k] for n in range(N))) for k in range(K)]
    sum_rx = [R(sum(e.resp[n][k] * p.data[n] for n in range(N))) for k in range(K)]
    new_w = [R(nk[k] / N) for k in range(K)] if "weights" in p.update else list(weights)
    new_m = ([R(sum_rx[k] / nk[k]) for k in range(K)] if "means" in p.update
             else list(means))
    sum_rsq = [R(sum(e.resp[n][k] * (p.data[n] - new_m[k]) ** 2 for n in range(N)))
               for k in range(K)]
    new_v = ([R(sum_rsq[k] / nk[k]) for k in range(K)] if "variances" in p.update
             else list(variances))
    return MStep(nk, sum_rx, sum_rsq, new_w, new_m, new_v)


def hand_run(p: Problem, iterations: int) -> tuple[list[tuple[EStep, MStep]], EStep]:
    """Each iteration's E- and M-step, and the final E-step."""
    params = (p.weights, p.means, p.variances)
    steps = []
    for _ in range(iterations):
        e = e_step(p, *params)
        m = m_step(p, e, *params)
        steps.append((e, m))
        params = (m.weights, m.means, m.variances)
    return steps, e_step(p, *params)


# --------------------------------------------------------------------------- the page

_NUMBER = re.compile(r"\\frac\{(-?\d+)\}\{(\d+)\}"
                     r"|(-?\d+(?:\.\d+)?)(?:\s*\\times\s*10\^\{(-?\d+)\})?")


def numbers(tex: str) -> list[Fraction]:
    """Every printed number of a piece of LaTeX, in order (``4.8 \\times 10^{-6}``,
    ``\\frac{1}{3}``, ``-2.5``); subscripts and exponents of symbols are skipped."""
    tex = re.sub(r"_\{[^{}]*\}|_\d|\^\{?2\}?|\\sigma|\\mu|\\pi|\\log|\\exp", " ", tex)
    out = []
    for m in _NUMBER.finditer(tex):
        if m.group(1) is not None:
            out.append(Fraction(int(m.group(1)), int(m.group(2))))
        else:
            value = Fraction(m.group(3))
            if m.group(4) is not None:
                value *= Fraction(10) ** int(m.group(4))
            out.append(value)
    return out


def last(tex: str) -> Fraction:
    found = numbers(tex)
    assert found, f"no number in {tex!r}"
    return found[-1]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of *text*: rows of cells, the head and rule rows dropped."""
    tables, rows, lines = [], [], text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            tables.append(rows)
            rows = []
    if rows:
        tables.append(rows)
    return [[_cells(r) for r in t[2:] if "\\vdots" not in r] for t in tables]


def _displays(text: str) -> list[str]:
    """The display formulas, a sum written over aligned lines read as one line."""
    def one_line(tex: str) -> str:
        if not tex.startswith("\\begin{aligned}\n&"):  # (a sum_lines block only)
            return tex
        tex = tex.removeprefix(r"\begin{aligned}").removesuffix(r"\end{aligned}")
        tex = re.sub(r"\\cr\s*&\\quad\s*", " ", tex)
        return re.sub(r"\s+", " ", tex.replace("&", "")).strip()

    return [one_line(m.strip()) for m in re.findall(r"\$\$\n(.*?)\n\$\$", text, re.S)]


def read_problem(page: str) -> tuple[Problem, int]:
    """The problem as the page writes it, and how many iterations it shows."""
    data = numbers(re.search(r"X = \\lbrace(.*?)\\rbrace", page).group(1))
    decimals = int(re.search(r"rounded to (\d+) decimals", page).group(1))
    kernel = "proportional" if "**Kernel:** proportional" in page else "normalized"
    updated = re.search(r"\*\*Re-estimated by the M-step:\*\* ([a-z, ]+)", page).group(1)
    start = page.split("Starting parameters")[1]
    table = _tables(start)[0]
    weights = [numbers(r[1])[0] for r in table]
    means = [numbers(r[2])[0] for r in table]
    variances = [numbers(r[3])[0] for r in table]
    if "## All iterations" in page:
        iterations = len(_tables(page.split("## All iterations")[1])[0])
    else:
        iterations = len(re.findall(r"^## Iteration \d+$", page, flags=re.M))
    problem = Problem(data, weights, means, variances, decimals, kernel,
                      {u.strip() for u in updated.split(",")})
    return problem, iterations


@dataclass
class Comparison:
    checked: int = 0
    differences: list[str] = field(default_factory=list)

    def same(self, where: str, printed: Fraction, hand: Fraction) -> None:
        self.checked += 1
        if printed != hand:
            self.differences.append(f"{where}: page {float(printed)!r}, "
                                    f"by hand {float(hand)!r}")


def _estep(c: Comparison, where: str, text: str, e: EStep, K: int) -> None:
    """The likelihood table (exponents, densities, p(x_n), log p(x_n)), the log-likelihood,
    the worked r_nk and the responsibility table of one E-step section."""
    table = _tables(text)[0]
    resp_table = _tables(text.split("Here are the responsibilities")[1])[0]
    for row in table:
        n = int(re.search(r"x_\{(\d+)\}", row[0]).group(1)) - 1
        for k in range(K):
            exponent = re.findall(r"\\exp\(([^()]*)\)", row[1 + k])
            c.same(f"{where} exponent {n + 1},{k + 1}", numbers(exponent[-1])[0],
                   e.exponent[n][k])
            c.same(f"{where} density {n + 1},{k + 1}", last(row[1 + k]), e.density[n][k])
        c.same(f"{where} p(x_{n + 1})", last(row[1 + K]), e.mixture[n])
        c.same(f"{where} log p(x_{n + 1})", last(row[2 + K]), e.log_mixture[n])
    for d in _displays(text):
        if d.startswith(r"\ell = "):
            c.same(f"{where} log-likelihood", last(d), e.log_likelihood)
        m = re.match(r"r_\{(\d+),(\d+)\} = ", d)
        if m:
            n, k = int(m.group(1)) - 1, int(m.group(2)) - 1
            c.same(f"{where} worked r_{n + 1},{k + 1}", last(d), e.resp[n][k])
        m = re.match(r"p\(x_\{(\d+)\}\) = ", d)
        if m:
            c.same(f"{where} worked p(x_{m.group(1)})", last(d), e.mixture[int(m.group(1)) - 1])
    for row in resp_table:
        n = int(re.search(r"x_\{(\d+)\}", row[0]).group(1)) - 1
        for k in range(K):
            c.same(f"{where} r_{n + 1},{k + 1}", last(row[1 + k]), e.resp[n][k])


def _mstep(c: Comparison, where: str, text: str, m: MStep) -> None:
    patterns = [(r"N_\{(\d+)\} = ", m.nk), (r"\\pi_\{(\d+)\}\^\{\\text\{new\}\} = ", m.weights),
                (r"\\sum_\{n=1\}\^\{N\} r_\{n(\d+)\} x_n = ", m.sum_rx),
                (r"\\mu_\{(\d+)\}\^\{\\text\{new\}\} = ", m.means),
                (r"\\sum_\{n=1\}\^\{N\} r_\{n(\d+)\} \(x_n", m.sum_rsq),
                (r"\\sigma_\{(\d+)\}\^\{2,\\text\{new\}\} = ", m.variances)]
    for d in _displays(text):
        for pattern, values in patterns:
            found = re.match(pattern, d)
            if found:
                k = int(found.group(1)) - 1
                c.same(f"{where} {pattern[:12]} {k + 1}", last(d), values[k])


def compare(page: str) -> Comparison:
    """Every number of a rounded-carry page against the independent hand calculation."""
    problem, iterations = read_problem(page)
    K = len(problem.weights)
    steps, final = hand_run(problem, iterations)
    c = Comparison()
    sections = re.split(r"^## Iteration (\d+)\n", page, flags=re.M)
    for i in range(1, len(sections), 2):
        index, text = int(sections[i]), sections[i + 1].split("\n## ")[0]
        e, m = steps[index - 1]
        estep_text = text.split("### M-step")[0]
        mstep_text = text.split("### M-step")[1].split("### Conclusion")[0]
        conclusion = text.split("### Conclusion")[1]
        _estep(c, f"iteration {index} E-step", estep_text, e, K)
        _mstep(c, f"iteration {index} M-step", mstep_text, m)
        after = steps[index][0] if index < iterations else final
        ll = re.search(r"\\log p\(x_n\)\$: \$(.*?) \\rightarrow (.*?)\$", conclusion)
        c.same(f"iteration {index} l before", numbers(ll.group(1))[-1], e.log_likelihood)
        c.same(f"iteration {index} l after", numbers(ll.group(2))[-1], after.log_likelihood)
    summary = (_tables(page.split("## All iterations")[1])[0]
               if "## All iterations" in page else [])
    for row in summary:
        index = int(row[0])
        e, m = steps[index - 1]
        after = steps[index][0] if index < iterations else final
        c.same(f"summary {index} l before", last(row[1]), e.log_likelihood)
        c.same(f"summary {index} l after", last(row[2]), after.log_likelihood)
        for column, values in ((3, m.weights), (4, m.means), (5, m.variances)):
            for k, v in enumerate(numbers(row[column])):
                c.same(f"summary {index} column {column} {k + 1}", v, values[k])
    convergence = page.split("## Convergence")[1].split("## Clustering")[0]
    c.same("final l", numbers(re.search(r"log-likelihood \$\\ell = (.*?)\$",
                                        convergence).group(1))[-1], final.log_likelihood)
    last_m = steps[-1][1]
    for k, row in enumerate(_tables(convergence)[0]):
        for column, values in ((1, last_m.weights), (2, last_m.means), (3, last_m.variances)):
            c.same(f"final parameter {column} {k + 1}", last(row[column]), values[k])
    clustering = page.split("## Clustering")[1]
    for row in _tables(clustering)[0]:
        n = int(re.search(r"x_\{(\d+)\}", row[0]).group(1)) - 1
        for k in range(K):
            c.same(f"clustering r_{n + 1},{k + 1}", last(row[1 + k]), final.resp[n][k])
        c.same(f"clustering p(x_{n + 1})", last(row[2 + K]), final.mixture[n])
        c.same(f"clustering log p(x_{n + 1})", last(row[3 + K]), final.log_mixture[n])
    for d in _displays(clustering):
        c.same("clustering l", last(d), final.log_likelihood)
    return c
