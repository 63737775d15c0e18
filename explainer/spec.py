"""The keys of a problem spec, declared once.

:data:`KEYS` is the one table of them. From it come the keys a spec may hold (and the
"did you mean" of an unknown one), the defaults, bounds and choices that validation
applies (``problem.validate``), the command line's flags (``cli``) and the options of
``problem_from``, the order and names of a problem written back as its spec
(``explainer.families.writing.spec_of``), and the JSON Schema of a spec
(:func:`spec_schema`, shipped as ``explainer/schema/spec-1.schema.json``, written by
``python -m explainer.validation``).

Adding a key is one row here, plus what validation does with it that the row cannot
say (reading it into the :class:`~explainer.problem.Problem`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import defaults

SPEC_SCHEMA_ID = "em-explainer/spec@1"

# JSON Schema fragments for values a spec writes.
_NUMBER = {"oneOf": [{"type": "number"},
                     {"type": "string", "description": "a number or a fraction: 0.25, 1/3"}]}
_NUMBERS = {"oneOf": [{"type": "array", "items": _NUMBER, "minItems": 1},
                      {"type": "string", "description": "comma-separated: 0.5, 0.5"}]}
_ROW = {"type": "array", "items": _NUMBER, "minItems": 1}
_POINTS = {"oneOf": [{"type": "array", "items": {"oneOf": [_NUMBER, _ROW]}, "minItems": 1},
                     {"type": "string",
                      "description": "comma-separated numbers, or rows separated by ';'"}]}
_MATRICES = {"oneOf": [{"type": "array", "items": {"type": "array", "items": _ROW}},
                       {"type": "string", "description": "matrices separated by '|', their "
                                                         "rows by ';'"}]}
_TEXT = {"type": ["string", "number"]}
_TEXTS = {"oneOf": [{"type": "array", "items": _TEXT, "minItems": 1},
                    {"type": "string", "description": "comma-separated"}]}
_SWITCH = {"oneOf": [{"type": "boolean"},
                     {"enum": ["true", "false", "yes", "no", "on", "off"]}]}


# How a problem written back as its spec writes a key (Key.written).
WRITTEN = ("always", "unless default", "unless empty", "when given", "never")


@dataclass(frozen=True)
class Key:
    """One key of a spec.

    path : where it lives (``display.decimals``).
    help : what it means, for ``--help`` and the schema's description.
    schema : the JSON Schema of its value as a spec may write it (bounds and choices
        are added from ``low``, ``high`` and ``choices``).
    option : the command line's name (``--k``) and ``problem_from``'s keyword (``k``);
        default the path's last part.
    metavar : the flag's placeholder in ``--help``.
    default : the value when the spec leaves it out (None: none, or worked out).
    low, high : the bounds of a whole number.
    choices : the words it may be.
    registry : the words it may be are the names of a plug-in registry above this
        module (``"models"``: the model plug-ins, ``explainer.families.MODELS``), given
        by the layer that knows them (validation, the command line, the schema).
    listed : the command line offers only ``choices`` (argparse's own check).
    switch : a flag without a value (``--exact``).
    override : a flag that sets the key over the spec's (False for the data's keys,
        which replace each other: see ``problem_from``).
    written : how a problem written back as its spec (the JSON trace's) writes the key
        (:data:`WRITTEN`): ``always``; ``unless default`` (left out at its default: a
        Gaussian problem's spec has no ``model.family``); ``unless empty`` (names);
        ``when given`` (a starting parameter, where the start was given, as written);
        ``never`` (where the data came from: the trace inlines the data).
    attribute : the :class:`~explainer.problem.Problem` attribute that holds it, where
        that is not the path's last name.
    """

    path: str
    help: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    option: str | None = None
    metavar: str | None = None
    default: Any = None
    low: int | None = None
    high: int | None = None
    choices: tuple[str, ...] | None = None
    registry: str | None = None
    listed: bool = False
    switch: bool = False
    override: bool = True
    written: str = "always"
    attribute: str | None = None

    @property
    def name(self) -> str:
        return self.option or self.path.rsplit(".", 1)[-1]

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def section(self) -> str | None:
        return self.path.split(".", 1)[0] if "." in self.path else None

    def value_schema(self, registries: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
        schema = dict(self.schema)
        choices = self.choices_in(registries)
        if choices is not None:
            schema["enum"] = list(choices)
        if self.low is not None or self.high is not None:
            schema["type"] = "integer"
            if self.low is not None:
                schema["minimum"] = self.low
            if self.high is not None:
                schema["maximum"] = self.high
        if self.default is not None:
            schema["default"] = list(self.default) if isinstance(self.default, tuple) \
                else self.default
        schema["description"] = self.described(registries)
        return schema

    def choices_in(self, registries: Mapping[str, tuple[str, ...]]) -> tuple[str, ...] | None:
        """The words it may be: its own choices, or its registry's names."""
        return registries[self.registry] if self.registry is not None else self.choices

    def described(self, registries: Mapping[str, tuple[str, ...]]) -> str:
        """Its help, with its registry's names where it has one."""
        if self.registry is None:
            return self.help
        return f"{self.help}: {', '.join(registries[self.registry])}"


KEYS: tuple[Key, ...] = (
    Key("title", "document title", {"type": ["string", "number", "null"]}),
    Key("data", "data points, comma-separated; rows for d >= 2 separated by ';' "
                "(\"0,0; 4,4; 1,0\")", _POINTS, metavar="X1,X2,...", override=False),
    Key("data_file", "CSV file with the data (a path relative to the spec)",
        {"type": "string"}, metavar="CSV", override=False, written="never"),
    Key("column", "CSV column to read (1-D data)", {"type": "string"}, override=False,
        written="never"),
    Key("columns", "CSV columns to read, one coordinate each (d >= 2)", _TEXTS,
        metavar="X,Y,...", override=False, written="never"),
    Key("variables", "names of the coordinates, for the axes and the setup (default: the "
                     "CSV columns' names)", _TEXTS, metavar="A,B,...", written="unless empty"),
    Key("components", "number of components", option="k", metavar="K", low=1,
        high=defaults.MAX_COMPONENTS),
    Key("names", "component names", _TEXTS, metavar="A,B,...", written="unless empty"),
    Key("init.weights", "starting weights (1/3 allowed)", _NUMBERS, metavar="W1,W2,...",
        written="when given"),
    Key("init.means", "starting means; for d >= 2 rows separated by ';' (\"0,0; 4,4\")",
        _POINTS, metavar="M1,M2,..."),
    Key("init.variances", "starting variances (1-D)", _NUMBERS, metavar="V1,V2,..."),
    Key("init.covariances", "d >= 2: starting covariance matrices, separated by '|', their "
                            "rows by ';' (\"1,0; 0,1 | 1,.5; .5,1\")", _MATRICES,
        metavar="MATRICES"),
    Key("init.p", "binomial: the starting probability of success of each component; "
                  "Bernoulli: a row of d probabilities of 1 per component (\"0.8,0.2; "
                  "0.3,0.6\")", _POINTS, metavar="P1,P2,..."),
    Key("init.rates", "Poisson: the starting rate of each component (> 0)", _NUMBERS,
        metavar="L1,L2,..."),
    Key("init.probs", "categorical: a row of C probabilities (summing to 1) per component, "
                      "in the order of model.categories (\"0.5,0.3,0.2; 0.2,0.3,0.5\")",
        _POINTS, metavar="ROWS"),
    Key("init_method", "how the starting parameters are found: "
                       + ", ".join(defaults.INIT_METHODS) + " (default: given, from init)",
        metavar="METHOD", choices=defaults.INIT_METHODS),
    Key("seed", "random seed for the init method", metavar="S", default=defaults.SEED,
        low=0, high=defaults.MAX_SEED),
    Key("model.family", "the components' distribution", metavar="FAMILY",
        default=defaults.FAMILY, registry="models", written="unless default"),
    Key("model.trials", "binomial: the number of trials behind every point (or write the "
                        "data as rows [successes, trials])", metavar="M", low=1,
        high=int(defaults.MAX_COUNT)),
    Key("model.categories", "categorical: the categories in order (default: the data's, "
                            "numbers first, then names alphabetically)", _TEXTS,
        metavar="A,B,..."),
    Key("model.kernel", "normalized or proportional (drops 1/sqrt(2 pi sigma^2); needs "
                        "equal, fixed variances)", metavar="KERNEL",
        default=defaults.KERNEL, choices=defaults.KERNELS),
    Key("model.update", "parameters the M-step re-estimates, e.g. weights,means (other "
                        "families: weights and p, rates or probs)",
        {"oneOf": [{"type": "array", "items": {"enum": [*defaults.PARAMETERS,
                                                         "covariances", "p", "rates",
                                                         "probs"]}},
                   {"type": "string", "description": "comma-separated"}]},
        metavar="PARAMS", default=defaults.UPDATE),
    Key("model.covariance_type", "d >= 2: full, diag, spherical or tied",
        metavar="TYPE", default=defaults.COVARIANCE_TYPE,
        choices=defaults.COVARIANCE_TYPES),
    Key("stop.iterations", "EM iterations (0 = E-step only)", metavar="N",
        default=defaults.ITERATIONS, low=0, high=defaults.MAX_ITERATIONS),
    Key("stop.tol", "stop when the log-likelihood changes by less than this (in size, as "
                    "scikit-learn; 0 runs every iteration)",
        {"oneOf": [{"type": "number", "minimum": 0}, {"type": "string"}, {"type": "null"}]},
        metavar="T"),
    Key("display.decimals", "decimals shown", metavar="D", default=defaults.DECIMALS,
        low=defaults.DECIMALS_RANGE[0], high=defaults.DECIMALS_RANGE[1]),
    Key("display.max_rows", "rows shown per table: every row of up to this many points; "
                            "beyond, tables leave rows out and each written-out sum writes "
                            "the terms it leaves out as one subtotal", metavar="R",
        default=defaults.MAX_ROWS, low=2, high=defaults.MAX_ROWS_LIMIT),
    Key("display.detail", "iterations shown in full: all, none, last, auto, or numbers such "
                          "as 1,3 (auto: every iteration of a run of up to "
                          f"{defaults.SHOW_ALL_UP_TO}, else the first, counted as run, so a "
                          "run that stop.tol ends early is shown whole; the default with "
                          "stop.tol, else all of up to "
                          f"{defaults.SHOW_ALL_UP_TO} iterations asked, else the first)",
        {"oneOf": [{"type": "array",
                    "items": {"oneOf": [{"type": "integer", "minimum": 1},
                                        {"enum": ["last", "none"]}]}},
                   {"type": "integer", "minimum": 1}, {"type": "string"}]},
        metavar="WHICH"),
    Key("display.highlight", "points worked in full: auto, none, or numbers such as 1,3",
        {"oneOf": [{"type": "array", "items": {"type": "integer", "minimum": 1}},
                   {"type": "integer", "minimum": 1}, {"type": "string"}]},
        metavar="POINTS", default=defaults.HIGHLIGHT),
    Key("display.exact", "also compute exactly (SymPy) and show the exact form beside each "
                         "decimal, within a time and size budget", _SWITCH, switch=True,
        default=False),
    Key("display.carry", "rounded: round every intermediate to the displayed decimals "
                         "before using it, as a hand calculation does, and show where that "
                         "differs", default=defaults.CARRY, choices=defaults.CARRIES,
        listed=True),
    Key("grading.carry", "the calculations check and an exam's exports accept an answer "
                         "from: any (at full precision; every intermediate rounded to the "
                         "displayed decimals, or to one more; each with a point's last r_nk "
                         "as 1 minus its others), or full or rounded alone (an exam's "
                         "questions then say so)", option="grading_carry",
        default=defaults.GRADING_CARRY, choices=defaults.GRADING_CARRIES, listed=True,
        written="unless default", attribute="grading_carry"),
    Key("display.paper", "the PDF's paper", default=defaults.PAPER, choices=defaults.PAPERS,
        listed=True),
)

BY_PATH: dict[str, Key] = {key.path: key for key in KEYS}


def _tree() -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key in KEYS:
        if key.section is None:
            tree[key.path] = None
        else:
            tree.setdefault(key.section, {})[key.path.split(".", 1)[1]] = None
    return tree


# The keys a spec may hold, by section; None marks a leaf.
SPEC_KEYS: dict[str, Any] = _tree()
# problem_from's keyword (the command line's flag) -> the spec key it overrides.
OVERRIDES: dict[str, str] = {key.name: key.path for key in KEYS if key.override}
# Every keyword problem_from takes.
OPTIONS: tuple[str, ...] = tuple(key.name for key in KEYS)


def spec_schema(registries: Mapping[str, tuple[str, ...]]) -> dict[str, Any]:
    """The JSON Schema of a problem spec (YAML or JSON), from :data:`KEYS` and the names
    of the plug-in *registries* (``{"models": tuple(MODELS)}``)."""
    properties: dict[str, Any] = {}
    for key in KEYS:
        if key.section is None:
            properties[key.path] = key.value_schema(registries)
        else:
            section = properties.setdefault(key.section, {
                "type": ["object", "null"], "additionalProperties": False, "properties": {}})
            section["properties"][key.path.split(".", 1)[1]] = key.value_schema(registries)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SPEC_SCHEMA_ID,
        "title": "em-explainer problem spec, version 1",
        "description": "A problem for 'em-explainer solve': the data (inline or from a CSV "
                       "file), the components and their starting parameters, the model, "
                       "when to stop and what to show. Generated from explainer/spec.py.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
