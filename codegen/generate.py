#!/usr/bin/env python3
"""Generates oxiam's IAM, STS and Organizations wire layer from the vendored botocore models.

Run from the repository root: `python3 codegen/generate.py` (then `cargo fmt`).
CI regenerates and fails on any difference, so the output must depend only on the
models under `models/` and on this file: no timestamps, no dict-order surprises.

What comes out, per service (`crates/oxiam-protocol/src/generated/<service>.rs`):
- one Rust type per model shape reachable from an operation (structures, enums);
- `Operation`: every operation, with its wire name;
- `Request` / `Response`: one variant per operation, with the typed input / output;
- `decode`: the request's member tree -> typed `Request`, checking the model's
  constraints (required, length, pattern, range, enum) with IAM's ValidationError texts;
  AWS Query form pairs make that tree, and so does an awsJson body
  (`QueryParams::from_json`), so one decoder template serves both protocols;
- `Response::write_result` (Query): typed output -> XML inside the `{Op}Result` element;
  `Response::write_body` (awsJson): typed output -> the JSON body, members by wire name;
- `Request::audit_parameters` / `Response::audit_elements`: typed input / output -> the
  JSON of an audit event's `requestParameters` / `responseElements`, members named as
  CloudTrail names them and every member the model marks sensitive hidden;
- the modeled errors, with their wire code and HTTP status.
The hand-written runtime those call lives beside it (`query.rs`, `validate.rs`, `xml.rs`,
`json.rs`).
"""

import hashlib
import json
import os
import re
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "crates", "oxiam-protocol", "src", "generated")

SERVICES = [
    # (module, model file); the model's `protocol` says how requests and answers travel.
    ("iam", "iam-2010-05-08.json"),
    ("sts", "sts-2011-06-15.json"),
    ("organizations", "organizations-2016-11-28.json"),
    ("accessanalyzer", "accessanalyzer-2019-11-01.json"),
]

# The operations oxiam serves of a model it serves only in part (the others are not
# generated, and the service answers them UnknownOperationException): module -> names.
OPERATIONS_SERVED = {
    # IAM Access Analyzer's policy checks, which need no analyzer, findings or archive.
    "accessanalyzer": {"CheckAccessNotGranted", "CheckNoNewAccess", "CheckNoPublicAccess", "ValidatePolicy"},
}

# Members whose value IAM leaves out of a ValidationError's text (`Value at 'tags.1.member.key'
# failed to satisfy constraint: …`, as recorded from real AWS): (module, shape).
VALUES_LEFT_OUT = {("iam", "tagKeyType"), ("iam", "tagValueType")}

# Enum values AWS writes otherwise than its model lists them, as recorded from real AWS:
# (shape, the model's value) -> the value on the wire. The variant keeps the model's name.
WIRE_VALUES = {
    # The API reference and the model say `PermissionsBoundaryPolicy`; responses say `Policy`.
    ("PermissionsBoundaryAttachmentType", "PermissionsBoundaryPolicy"): "Policy",
}

RUST_KEYWORDS = {"type", "match", "ref", "self", "static", "struct", "enum", "fn", "mod", "use", "where", "move", "box", "in", "loop", "impl", "trait", "crate", "super", "async", "await", "dyn"}

# The one model pattern that Rust's regex crate cannot express (a lookahead).
# IAM account aliases: lowercase letters, digits and single hyphens, 3 to 63 characters.
# Expressed as the same pattern without the lookahead plus "must not contain --".
PATTERN_REWRITES = {
    "^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$": ("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", "--"),
}


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.replace("-", "_").lower()
    if s in RUST_KEYWORDS:
        s = "r#" + s
    return s


def camel_lower(name):
    """The member name as IAM prints it in ValidationError messages ('userName')."""
    return name[0].lower() + name[1:]


def pascal(name):
    n = name[0].upper() + name[1:]
    return re.sub(r"[^A-Za-z0-9]", "", n)


def rust_str(s):
    return json.dumps(s, ensure_ascii=False)


def java_to_rust_regex(p):
    """Translates the model's Java regex dialect into the regex crate's."""
    p = re.sub(r"\\u(10[0-9A-Fa-f]{4})", r"\\x{\1}", p)
    p = re.sub(r"\\u([0-9A-Fa-f]{4})", r"\\x{\1}", p)
    # Java's \w and \d are ASCII-only; the regex crate's are Unicode-aware.
    p = p.replace("\\w", "0-9A-Za-z_").replace("\\d", "0-9")
    # Outside a character class the expansions above need brackets again.
    p = fix_bare_classes(p)
    # Java allows any punctuation to be escaped; the regex crate rejects `\/` and `\:`.
    p = p.replace("\\/", "/").replace("\\:", ":")
    return "^(?:" + p + ")$"


def fix_bare_classes(p):
    out = []
    depth = 0
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            out.append(p[i:i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        for exp in ("0-9A-Za-z_", "0-9"):
            if depth == 0 and p.startswith(exp, i):
                # the only bare uses are `\d{12}`; never `\w` outside a class in these models
                out.append("[" + exp + "]")
                i += len(exp)
                break
        else:
            out.append(c)
            i += 1
    return "".join(out)


# Shapes the audit trail hides although the model does not mark them sensitive: MFA
# authentication codes (IAM's EnableMFADevice and ResyncMFADevice, STS's TokenCode), each
# good until spent or stale, and a refused request spends none.
HIDDEN_IN_AUDIT = {"authenticationCodeType", "tokenCodeType"}


class Gen:
    def __init__(self, module, model):
        self.module = module
        self.model = model
        self.shapes = model["shapes"]
        self.meta = model["metadata"]
        served = OPERATIONS_SERVED.get(module)
        self.ops = {n: o for n, o in model["operations"].items() if served is None or n in served}
        self.input_shapes = set()
        self.output_shapes = set()
        self.patterns = {}  # pattern text -> const index
        self.out = []
        # "query" (XML answers), "json" (awsJson1_1: JSON answers, X-Amz-Target) or
        # "rest-json" (restJson1: the operation named by method and path, JSON answers).
        self.protocol = self.meta["protocol"]
        # Whether answers are JSON bodies, members by their model names.
        self.json_wire = self.protocol in ("json", "rest-json")

    def w(self, line=""):
        self.out.append(line)

    # ---- reachability ----
    def collect(self, shape_name, into):
        if shape_name in into:
            return
        s = self.shapes[shape_name]
        if s["type"] == "structure" or (s["type"] == "string" and "enum" in s):
            into.add(shape_name)
        if s["type"] == "structure":
            for m in s["members"].values():
                self.collect(m["shape"], into)
        elif s["type"] == "list":
            self.collect(s["member"]["shape"], into)
        elif s["type"] == "map":
            self.collect(s["key"]["shape"], into)
            self.collect(s["value"]["shape"], into)

    # ---- types ----
    def type_name(self, shape_name):
        return pascal(shape_name)

    def rust_type(self, shape_name):
        s = self.shapes[shape_name]
        t = s["type"]
        if t == "string":
            if "enum" in s:
                return self.type_name(shape_name)
            if s.get("sensitive"):
                return "Sensitive<String>"
            return "String"
        if t == "integer" or t == "long":
            return "i32" if t == "integer" else "i64"
        if t == "boolean":
            return "bool"
        if t == "timestamp":
            return "Timestamp"
        if t == "blob":
            return "Vec<u8>"
        if t == "list":
            return "Vec<%s>" % self.rust_type(s["member"]["shape"])
        if t == "map":
            return "Vec<(%s, %s)>" % (self.rust_type(s["key"]["shape"]), self.rust_type(s["value"]["shape"]))
        if t == "structure":
            return self.type_name(shape_name)
        raise ValueError(t)

    def pattern_index(self, pattern):
        if pattern not in self.patterns:
            self.patterns[pattern] = len(self.patterns)
        return self.patterns[pattern]

    def emit_enum(self, name):
        s = self.shapes[name]
        tn = self.type_name(name)
        variants = []
        used = set()
        for model_value in s["enum"]:
            v = WIRE_VALUES.get((name, model_value), model_value)
            # Keep the value's own capitals ("UsersQuota", "AWSManagedPolicy"); "text/csv" -> "TextCsv".
            vn = "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]+", model_value))
            if self.json_wire and v.upper() == v:
                # SCREAMING_SNAKE values ("SERVICE_CONTROL_POLICY") -> "ServiceControlPolicy".
                vn = "".join(p[:1].upper() + p[1:].lower() for p in re.split(r"[^A-Za-z0-9]+", v))
            if not vn or vn[0].isdigit():
                vn = "V" + vn
            while vn in used:
                vn += "_"
            used.add(vn)
            variants.append((vn, v))
        self.w("/// Enum `%s` of the model." % name)
        self.w("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        self.w("pub enum %s {" % tn)
        for vn, v in variants:
            self.w("    /// `%s`" % v)
            self.w("    %s," % vn)
        self.w("}")
        self.w("impl %s {" % tn)
        self.w("    /// Every value, in model order.")
        self.w("    pub const VALUES: &'static [&'static str] = &[%s];" % ", ".join(rust_str(v) for _, v in variants))
        self.w("    /// The value as it appears on the wire.")
        self.w("    pub fn as_str(self) -> &'static str {")
        self.w("        match self {")
        for vn, v in variants:
            self.w("            Self::%s => %s," % (vn, rust_str(v)))
        self.w("        }")
        self.w("    }")
        self.w("    /// Parses a wire value (exact, case-sensitive, as IAM does).")
        self.w("    pub fn from_wire(value: &str) -> Option<Self> {")
        self.w("        match value {")
        for vn, v in variants:
            self.w("            %s => Some(Self::%s)," % (rust_str(v), vn))
        self.w("            _ => None,")
        self.w("        }")
        self.w("    }")
        self.w("}")
        self.w("impl crate::xml::XmlText for %s {" % tn)
        self.w("    fn write_text(&self, out: &mut crate::xml::XmlWriter) { out.text(self.as_str()) }")
        self.w("}")
        self.w()

    def emit_struct(self, name, is_input, is_output):
        s = self.shapes[name]
        tn = self.type_name(name)
        required = set(s.get("required", []))
        doc = "Structure `%s` of the model." % name
        if "error" in s:
            doc = "Error structure `%s` (code `%s`)." % (name, s["error"].get("code", name))
        self.w("/// " + doc)
        self.w("#[derive(Debug, Clone, PartialEq)]")
        self.w("pub struct %s {" % tn)
        for mname, m in s["members"].items():
            rt = self.rust_type(m["shape"])
            if mname not in required:
                rt = "Option<%s>" % rt
            self.w("    /// `%s`" % mname)
            self.w("    pub %s: %s," % (snake(mname), rt))
        self.w("}")
        self.w()
        if is_input:
            self.emit_decoder(name)
        if is_output:
            if self.json_wire:
                self.emit_json(name, wire=True)
            else:
                self.emit_encoder(name)
        self.emit_json(name)

    def emit_routes(self, ops):
        """restJson1: the method and path that name each operation, and the input members
        that travel in the query string rather than the body."""
        for o in ops:
            if "{" in o["http"]["requestUri"]:
                raise ValueError("%s: URI labels are not supported yet" % o["name"])
            members = self.shapes[o["input"]["shape"]]["members"].values() if "input" in o else []
            for m in members:
                if m.get("location") not in (None, "querystring"):
                    raise ValueError("%s: members in %s are not supported yet" % (o["name"], m["location"]))
        self.w("    /// The operation a method and path name (restJson1), if one of the served.")
        self.w("    pub fn from_route(method: &str, path: &str) -> Option<Self> {")
        self.w("        match (method, path) {")
        for o in ops:
            self.w("            (%s, %s) => Some(Self::%s)," % (rust_str(o["http"]["method"]), rust_str(o["http"]["requestUri"]), o["name"]))
        self.w("            _ => None,")
        self.w("        }")
        self.w("    }")
        self.w("    /// The input members read from the query string, not the body: (query")
        self.w("    /// parameter, member name).")
        self.w("    pub fn query_string_members(self) -> &'static [(&'static str, &'static str)] {")
        self.w("        match self {")
        for o in ops:
            members = self.shapes[o["input"]["shape"]]["members"].items() if "input" in o else []
            pairs = [(m["locationName"], n) for n, m in members if m.get("location") == "querystring"]
            self.w("            Self::%s => &[%s]," % (o["name"], ", ".join("(%s, %s)" % (rust_str(a), rust_str(b)) for a, b in pairs)))
        self.w("        }")
        self.w("    }")

    # ---- member reflection ----
    def member_arms(self, struct_name):
        """(wire name, Rust expression of type Option<Member>) for each readable member."""
        s = self.shapes[struct_name]
        required = set(s.get("required", []))
        arms = []
        for mname, m in s["members"].items():
            shape = self.shapes[m["shape"]]
            t = shape["type"]
            if shape.get("sensitive"):
                continue
            # `{v}` is a reference to the member's value.
            if t == "string":
                # A String's and an enum's `as_str` alike.
                conv = "crate::Member::Text({v}.as_str())"
            elif t in ("integer", "long"):
                conv = "crate::Member::Number(i64::from(*{v}))"
            elif t == "boolean":
                conv = "crate::Member::Flag(*{v})"
            elif t == "list":
                item = self.shapes[shape["member"]["shape"]]
                if item["type"] == "string" and not item.get("sensitive") and "enum" not in item:
                    conv = "crate::Member::Texts({v}.as_slice())"
                elif item["type"] == "structure" and set(item["members"]) == {"Key", "Value"}:
                    conv = "crate::Member::Tags({v}.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect())"
                else:
                    continue
            else:
                continue
            field = "x." + snake(mname)
            if mname in required:
                expr = "Some(%s)" % conv.format(v="(&" + field + ")")
            else:
                expr = "%s.as_ref().map(|v| %s)" % (field, conv.format(v="v"))
            arms.append((mname, expr))
        return arms

    # ---- decoding ----
    def value_expr(self, shape_name, key, path):
        """An expression of type Option<T> decoding shape `shape_name` at wire key `key`.

        `key` and `path` are Rust expressions of type `&str`: the wire key, and the member
        path that ValidationError messages print ('tags.1.member.key')."""
        s = self.shapes[shape_name]
        t = s["type"]
        if t == "structure":
            return "%s::decode(q, %s, %s, v)" % (self.type_name(shape_name), key, path)
        if t == "list":
            inner = self.value_expr(s["member"]["shape"], "k", "p")
            check = self.constraint_call(shape_name, "&items", path)
            return ("q.list(%s, %s, v, |q, k, p, v| %s).map(|items| { %s items })"
                    % (key, path, inner, check))
        if t == "map":
            kexpr = self.value_expr(s["key"]["shape"], "k", "p")
            vexpr = self.value_expr(s["value"]["shape"], "k", "p")
            check = self.constraint_call(shape_name, "&entries", path)
            return ("q.map(%s, %s, v, |q, k, p, v| %s, |q, k, p, v| %s).map(|entries| { %s entries })"
                    % (key, path, kexpr, vexpr, check))
        if t == "string":
            if "enum" in s:
                tn = self.type_name(shape_name)
                return "q.enumeration(%s, %s, v, %s::VALUES, %s::from_wire)" % (key, path, tn, tn)
            check = self.constraint_call(shape_name, "&x", path)
            conv = "Sensitive(x)" if s.get("sensitive") else "x"
            return "q.string(%s, %s, v).map(|x| { %s %s })" % (key, path, check, conv)
        if t == "integer" or t == "long":
            check = self.constraint_call(shape_name, "&x", path)
            return "q.integer(%s, %s, v).map(|x| { %s x })" % (key, path, check)
        if t == "boolean":
            return "q.boolean(%s, %s, v)" % (key, path)
        if t == "timestamp" and self.json_wire:
            return "q.timestamp(%s, %s, v)" % (key, path)
        # No IAM or STS input carries a blob or a timestamp; fail loudly if a model update adds one.
        raise ValueError("cannot decode %s members of type %s" % (shape_name, t))

    def constraint_call(self, shape_name, value_expr, path_expr):
        parts = []
        s = self.shapes[shape_name]
        t = s["type"]
        if (self.module, shape_name) in VALUES_LEFT_OUT:
            shown = "crate::validate::Shown::Omitted"
        elif s.get("sensitive"):
            shown = "crate::validate::Shown::Redacted"
        else:
            shown = "crate::validate::Shown::Value"
        if t in ("string", "list", "map"):
            if "min" in s or "max" in s:
                parts.append("v.length(%s, %s, %s, %s, %s);" % (path_expr, value_expr, s.get("min", 0), s.get("max", "usize::MAX"), shown))
            if t == "string" and "pattern" in s:
                parts.append("v.pattern(%s, %s, &PATTERNS[%d], %s);" % (path_expr, value_expr, self.pattern_index(s["pattern"]), shown))
        if t in ("integer", "long"):
            if "min" in s or "max" in s:
                parts.append("v.range(%s, i64::from(*%s), %s, %s);" % (path_expr, value_expr, s.get("min", "i64::MIN"), s.get("max", "i64::MAX")))
        return " ".join(parts)

    def emit_decoder(self, name):
        s = self.shapes[name]
        tn = self.type_name(name)
        required = s.get("required", [])
        self.w("impl %s {" % tn)
        self.w("    /// Decodes this structure from the members found under `key` (\"\" at the root).")
        self.w("    #[allow(unused_variables, reason = \"generated for every operation; some have no members\")]")
        self.w("    pub(crate) fn decode(q: &QueryParams, key: &str, path: &str, v: &mut Violations) -> Option<Self> {")
        members = list(s["members"].items())
        if not members:
            self.w("        Some(Self {})")
            self.w("    }")
            self.w("}")
            self.w()
            return
        if name not in self.root_inputs:
            # A nested structure that is wholly absent is None, not a set of missing members.
            self.w("        if !q.has_prefix(key) { return None; }")
        for mname, m in members:
            var = snake(mname).replace("r#", "") + "_"
            self.w("        let %s = { let k = crate::query::join(key, %s); let p = crate::validate::join_path(path, %s); %s };"
                   % (var, rust_str(mname), rust_str(camel_lower(mname)), self.value_expr(m["shape"], "&k", "&p")))
        for mname in required:
            var = snake(mname).replace("r#", "") + "_"
            # Missing, as opposed to present but invalid (already reported).
            self.w("        if %s.is_none() && !q.has_prefix(&crate::query::join(key, %s)) { v.missing(&crate::validate::join_path(path, %s)); }"
                   % (var, rust_str(mname), rust_str(camel_lower(mname))))
        self.w("        Some(Self {")
        for mname, m in members:
            var = snake(mname).replace("r#", "") + "_"
            if mname in required:
                self.w("            %s: %s?," % (snake(mname), var))
            else:
                self.w("            %s: %s," % (snake(mname), var))
        self.w("        })")
        self.w("    }")
        self.w("}")
        self.w()

    # ---- encoding ----
    def write_member(self, mname, shape_name, expr):
        s = self.shapes[shape_name]
        t = s["type"]
        tag = rust_str(mname)
        if t == "structure":
            return "out.start(%s); (%s).write_xml(out); out.end(%s);" % (tag, expr, tag)
        if t == "list":
            inner = self.write_member("member", s["member"]["shape"], "item")
            return "out.start(%s); for item in (%s).iter() { %s } out.end(%s);" % (tag, expr, inner, tag)
        if t == "map":
            kw = self.write_member("key", s["key"]["shape"], "k")
            vw = self.write_member("value", s["value"]["shape"], "val")
            return ("out.start(%s); for (k, val) in (%s).iter() { out.start(\"entry\"); %s %s out.end(\"entry\"); } out.end(%s);"
                    % (tag, expr, kw, vw, tag))
        if shape_name == "policyDocumentType":
            # IAM returns policy documents percent-encoded (RFC 3986) inside the XML.
            return "out.policy_document(%s, %s);" % (tag, expr)
        return "out.scalar(%s, %s);" % (tag, expr)

    def emit_encoder(self, name):
        s = self.shapes[name]
        tn = self.type_name(name)
        required = set(s.get("required", []))
        self.w("impl crate::xml::ToXml for %s {" % tn)
        self.w("    #[allow(unused_variables, reason = \"generated for every operation; some have no members\")]")
        self.w("    fn write_xml(&self, out: &mut crate::xml::XmlWriter) {")
        for mname, m in s["members"].items():
            f = "self.%s" % snake(mname)
            if mname in required:
                self.w("        " + self.write_member(mname, m["shape"], "&" + f))
            else:
                self.w("        if let Some(x) = &%s { %s }" % (f, self.write_member(mname, m["shape"], "x")))
        self.w("    }")
        self.w("}")
        self.w()

    # ---- JSON: the audit trail's, and awsJson answers ----
    def json_value(self, shape_name, expr, wire=False):
        """Rust statements writing the value of shape `shape_name` at reference `expr`.

        For the audit trail (`wire` false): members named as CloudTrail names them, what the
        model marks sensitive (and the MFA codes, which it does not mark, but which a refused
        request leaves unspent for a minute) hidden whole, whatever its shape (STS's
        TrustedIdentityPropagationContext is a structure), timestamps in ISO 8601.
        For an awsJson answer (`wire` true): the real value (an answer is the caller's own
        data), members by their model names, timestamps as epoch seconds."""
        s = self.shapes[shape_name]
        t = s["type"]
        if not wire and (s.get("sensitive") or shape_name in HIDDEN_IN_AUDIT):
            return "out.hidden();"
        if t == "structure":
            return "(%s).%s(out);" % (expr, "write_wire_json" if wire else "write_json")
        if t == "list":
            inner = self.json_value(s["member"]["shape"], "item", wire)
            return "out.begin_array(); for item in (%s).iter() { %s } out.end_array();" % (expr, inner)
        if t == "map":
            if not wire and self.shapes[s["key"]["shape"]].get("sensitive"):
                raise ValueError("a sensitive map key cannot be hidden")
            inner = self.json_value(s["value"]["shape"], "val", wire)
            return ("out.begin_object(); for (k, val) in (%s).iter() { out.key(k.as_str()); %s } out.end_object();"
                    % (expr, inner))
        if t == "string":
            if "enum" in s:
                return "out.string((%s).as_str());" % expr
            if s.get("sensitive"):
                return "out.string(&(%s).0);" % expr
            return "out.string(%s);" % expr
        if t in ("integer", "long"):
            return "out.number(i64::from(*%s));" % expr
        if t == "boolean":
            return "out.boolean(*%s);" % expr
        if t == "timestamp":
            return ("out.number((%s).0);" if wire else "out.string(&(%s).to_iso8601());") % expr
        if t == "blob":
            return "out.bytes(%s);" % expr
        raise ValueError(t)

    def emit_json(self, name, wire=False):
        """`ToJson` (the audit trail's) or, with `wire`, `ToWireJson` (awsJson answers)."""
        s = self.shapes[name]
        tn = self.type_name(name)
        required = set(s.get("required", []))
        trait, method = ("ToWireJson", "write_wire_json") if wire else ("ToJson", "write_json")
        self.w("impl crate::json::%s for %s {" % (trait, tn))
        self.w("    #[allow(unused_variables, reason = \"generated for every operation; some have no members\")]")
        self.w("    fn %s(&self, out: &mut crate::json::JsonWriter) {" % method)
        self.w("        out.begin_object();")
        for mname, m in s["members"].items():
            f = "self.%s" % snake(mname)
            key = rust_str(mname if wire else camel_lower(mname))
            if mname in required:
                self.w("        out.key(%s); %s" % (key, self.json_value(m["shape"], "&" + f, wire)))
            else:
                self.w("        if let Some(x) = &%s { out.key(%s); %s }" % (f, key, self.json_value(m["shape"], "x", wire)))
        self.w("        out.end_object();")
        self.w("    }")
        self.w("}")
        self.w()

    def run(self):
        ops = sorted(self.ops.values(), key=lambda o: o["name"])
        self.root_inputs = set()
        for o in ops:
            if "input" in o:
                self.root_inputs.add(o["input"]["shape"])
                self.collect(o["input"]["shape"], self.input_shapes)
            if "output" in o:
                self.collect(o["output"]["shape"], self.output_shapes)
        errors = sorted(n for n, s in self.shapes.items() if s.get("exception"))

        body_start = len(self.out)
        for name in sorted(self.input_shapes | self.output_shapes):
            s = self.shapes[name]
            if s["type"] == "structure":
                self.emit_struct(name, name in self.input_shapes, name in self.output_shapes)
            else:
                self.emit_enum(name)
        body = self.out[body_start:]
        del self.out[body_start:]

        # Operation enum
        self.w("/// Every %s operation of the model, by wire name." % self.meta["serviceId"])
        self.w("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        self.w("pub enum Operation {")
        for o in ops:
            self.w("    /// `%s`" % o["name"])
            self.w("    %s," % o["name"])
        self.w("}")
        self.w("impl Operation {")
        self.w("    /// Every operation, sorted by name.")
        self.w("    pub const ALL: &'static [Operation] = &[%s];" % ", ".join("Operation::" + o["name"] for o in ops))
        self.w("    /// The name of this operation (%s)." % ("its `Action` value" if self.protocol == "query" else "the method and path route to it" if self.protocol == "rest-json" else "after `X-Amz-Target`'s prefix"))
        self.w("    pub fn name(self) -> &'static str {")
        self.w("        match self {")
        for o in ops:
            self.w("            Self::%s => %s," % (o["name"], rust_str(o["name"])))
        self.w("        }")
        self.w("    }")
        self.w("    /// Finds the operation a name gives (exact, case-sensitive).")
        self.w("    pub fn from_action(action: &str) -> Option<Self> {")
        self.w("        match action {")
        for o in ops:
            self.w("            %s => Some(Self::%s)," % (rust_str(o["name"]), o["name"]))
        self.w("            _ => None,")
        self.w("        }")
        self.w("    }")
        if self.protocol == "rest-json":
            self.emit_routes(ops)
        self.w("    /// Whether the model gives this operation an output%s." % (" (a `{Op}Result` element)" if self.protocol == "query" else ""))
        self.w("    pub fn has_output(self) -> bool {")
        with_output = [o["name"] for o in ops if "output" in o]
        without = [o["name"] for o in ops if "output" not in o]
        if without:
            self.w("        !matches!(self, %s)" % " | ".join("Self::" + n for n in without))
        else:
            self.w("        true")
        self.w("    }")
        self.w("}")
        self.w()

        # Request enum + decode
        self.w("/// A decoded %s request: the operation and its typed input." % self.meta["serviceId"])
        self.w("#[derive(Debug, Clone, PartialEq)]")
        self.w("pub enum Request {")
        for o in ops:
            if "input" in o:
                self.w("    /// `%s`" % o["name"])
                self.w("    %s(%s)," % (o["name"], self.type_name(o["input"]["shape"])))
            else:
                self.w("    /// `%s`" % o["name"])
                self.w("    %s," % o["name"])
        self.w("}")
        self.w("impl Request {")
        self.w("    /// The operation this request calls.")
        self.w("    pub fn operation(&self) -> Operation {")
        self.w("        match self {")
        for o in ops:
            pat = "(_)" if "input" in o else ""
            self.w("            Self::%s%s => Operation::%s," % (o["name"], pat, o["name"]))
        self.w("        }")
        self.w("    }")
        self.w("}")
        self.w()
        # Member reflection: what authorization builds resources and condition keys from.
        self.w("impl Request {")
        self.w("    /// The request's members as an audit event's `requestParameters` (JSON): `None`")
        self.w("    /// when it has none. Members the model marks sensitive are hidden.")
        self.w("    pub fn audit_parameters(&self) -> Option<String> {")
        self.w("        match self {")
        for o in ops:
            if "input" in o:
                self.w("            Self::%s(x) => crate::json::object_of(x)," % o["name"])
            else:
                self.w("            Self::%s => None," % o["name"])
        self.w("        }")
        self.w("    }")
        self.w("    /// The top-level member whose wire name is `name`, when it is set and holds a value")
        self.w("    /// authorization can read (text, numbers, flags, lists of text, tags). Members the")
        self.w("    /// model marks sensitive are never returned.")
        self.w("    #[allow(unused_variables, unreachable_patterns, reason = \"generated for every operation; some have no members\")]")
        self.w("    pub fn member(&self, name: &str) -> Option<crate::Member<'_>> {")
        self.w("        match self {")
        for o in ops:
            if "input" not in o:
                continue
            arms = self.member_arms(o["input"]["shape"])
            if not arms:
                continue
            self.w("            Self::%s(x) => match name {" % o["name"])
            for wire, expr in arms:
                self.w("                %s => %s," % (rust_str(wire), expr))
            self.w("                _ => None,")
            self.w("            },")
        self.w("            _ => None,")
        self.w("        }")
        self.w("    }")
        self.w("}")
        self.w("impl Operation {")
        self.w("    /// The wire names of the members [`Request::member`] can return for this operation.")
        self.w("    pub fn readable_members(self) -> &'static [&'static str] {")
        self.w("        match self {")
        for o in ops:
            names = [w for w, _ in self.member_arms(o["input"]["shape"])] if "input" in o else []
            self.w("            Self::%s => &[%s]," % (o["name"], ", ".join(rust_str(n) for n in names)))
        self.w("        }")
        self.w("    }")
        self.w("}")
        self.w()
        self.w("/// Decodes the form pairs of a request for `op`, checking the model's constraints.")
        self.w("pub fn decode(op: Operation, q: &QueryParams) -> Result<Request, ValidationError> {")
        self.w("    let mut v = Violations::default();")
        self.w("    let request = match op {")
        for o in ops:
            if "input" in o:
                self.w("        Operation::%s => %s::decode(q, \"\", \"\", &mut v).map(Request::%s)," % (o["name"], self.type_name(o["input"]["shape"]), o["name"]))
            else:
                self.w("        Operation::%s => Some(Request::%s)," % (o["name"], o["name"]))
        self.w("    };")
        self.w("    v.finish(request)")
        self.w("}")
        self.w()

        # Response enum + encode
        self.w("/// A typed %s response, ready to encode." % self.meta["serviceId"])
        self.w("#[derive(Debug, Clone, PartialEq)]")
        self.w("pub enum Response {")
        for o in ops:
            self.w("    /// `%s`" % o["name"])
            if "output" in o:
                self.w("    %s(%s)," % (o["name"], self.type_name(o["output"]["shape"])))
            else:
                self.w("    %s," % o["name"])
        self.w("}")
        self.w("impl Response {")
        self.w("    /// The operation this response answers.")
        self.w("    pub fn operation(&self) -> Operation {")
        self.w("        match self {")
        for o in ops:
            pat = "(_)" if "output" in o else ""
            self.w("            Self::%s%s => Operation::%s," % (o["name"], pat, o["name"]))
        self.w("        }")
        self.w("    }")
        self.w("    /// The response's members as an audit event's `responseElements` (JSON): `None`")
        self.w("    /// when it has none. Members the model marks sensitive are hidden.")
        self.w("    pub fn audit_elements(&self) -> Option<String> {")
        self.w("        match self {")
        for o in ops:
            if "output" in o:
                self.w("            Self::%s(x) => crate::json::object_of(x)," % o["name"])
            else:
                self.w("            Self::%s => None," % o["name"])
        self.w("        }")
        self.w("    }")
        if self.json_wire:
            self.w("    /// The answer's JSON body (`{}` for output-less operations).")
            self.w("    pub fn write_body(&self) -> String {")
            self.w("        let mut out = crate::json::JsonWriter::default();")
            self.w("        match self {")
            for o in ops:
                if "output" in o:
                    self.w("            Self::%s(x) => crate::json::ToWireJson::write_wire_json(x, &mut out)," % o["name"])
                else:
                    self.w("            Self::%s => { out.begin_object(); out.end_object(); }" % o["name"])
            self.w("        }")
            self.w("        out.finish()")
            self.w("    }")
        else:
            self.w("    /// Writes the members of the `{Op}Result` element (nothing for output-less operations).")
            self.w("    pub fn write_result(&self, out: &mut crate::xml::XmlWriter) {")
            self.w("        use crate::xml::ToXml;")
            self.w("        match self {")
            for o in ops:
                if "output" in o:
                    self.w("            Self::%s(x) => x.write_xml(out)," % o["name"])
                else:
                    self.w("            Self::%s => {}" % o["name"])
            self.w("        }")
            self.w("    }")
        self.w("}")
        self.w()

        # Errors
        self.w("/// The errors the model declares, with their wire code and HTTP status.")
        self.w("pub mod errors {")
        self.w("    use crate::ErrorKind;")
        for n in errors:
            s = self.shapes[n]
            e = s.get("error", {})
            code = e.get("code", n)
            # awsJson errors carry no `error` trait: 400, or 500 for a server `fault`.
            status = e.get("httpStatusCode", 500 if s.get("fault") else 400 if e.get("senderFault", True) else 500)
            sender = "true" if e.get("senderFault", "httpStatusCode" not in e or status < 500) else "false"
            const = re.sub(r"_exception$", "", snake(n)).upper()
            self.w("    /// `%s` (HTTP %d)" % (code, status))
            self.w("    pub const %s: ErrorKind = ErrorKind { code: %s, status: %d, sender: %s };" % (const, rust_str(code), status, sender))
        self.w("}")
        self.w()

        # Patterns
        self.w("/// The model's regular expressions, translated to the regex crate's dialect.")
        self.w("static PATTERNS: [Pattern; %d] = [" % len(self.patterns))
        for p, i in sorted(self.patterns.items(), key=lambda kv: kv[1]):
            if p in PATTERN_REWRITES:
                rx, forbidden = PATTERN_REWRITES[p]
                self.w("    Pattern::new(%s, %s, Some(%s))," % (rust_str(p), rust_str(rx), rust_str(forbidden)))
            else:
                self.w("    Pattern::new(%s, %s, None)," % (rust_str(p), rust_str(java_to_rust_regex(p))))
        self.w("];")
        self.w()
        self.w("/// Compiles every model pattern, reporting the first that the regex crate rejects.")
        self.w("pub fn compile_all_patterns() -> Result<(), String> {")
        self.w("    PATTERNS.iter().try_for_each(Pattern::compile)")
        self.w("}")
        self.w()
        self.out.extend(body)

    def protocol_summary(self):
        if self.protocol == "json":
            return "awsJson %s" % self.meta["jsonVersion"]
        if self.protocol == "rest-json":
            return "restJson1"
        return "xmlns `%s`" % self.meta.get("xmlNamespace", "")

    def render(self):
        header = [
            "// @generated by codegen/generate.py from models/%s. Do not edit by hand." % SOURCE[self.module],
            "// input sha256: %s" % INPUT_SHA256[self.module],
            "// generator sha256: %s" % GENERATOR_SHA256,
            "//! The %s wire layer (API version %s, %s)." % (self.meta["serviceId"], self.meta["apiVersion"], self.protocol_summary()),
            "#![allow(clippy::all, missing_docs, non_camel_case_types, reason = \"generated code, proven fresh by CI\")]",
            "",
            "use crate::query::QueryParams;",
            "use crate::validate::{Pattern, ValidationError, Violations};",
            "#[allow(unused_imports, reason = \"generated code imports what any operation may need\")]",
            "use crate::{Sensitive, Timestamp};",
            "#[allow(unused_imports, reason = \"generated code imports what any operation may need\")]",
            "use crate::json::ToJson as _;",
            "",
            "/// The API version of the model.",
            "pub const API_VERSION: &str = %s;" % rust_str(self.meta["apiVersion"]),
        ]
        if self.protocol == "json":
            header += [
                "/// What `X-Amz-Target` starts with, before `.` and the operation's name.",
                "pub const TARGET_PREFIX: &str = %s;" % rust_str(self.meta["targetPrefix"]),
                "/// The content type of requests and answers: `application/x-amz-json-` and this.",
                "pub const JSON_VERSION: &str = %s;" % rust_str(self.meta["jsonVersion"]),
            ]
        elif self.protocol == "query":
            header += [
                "/// The XML namespace of every response.",
                "pub const XML_NAMESPACE: &str = %s;" % rust_str(self.meta.get("xmlNamespace", "https://%s.amazonaws.com/doc/%s/" % (self.meta["endpointPrefix"], self.meta["apiVersion"]))),
            ]
        header += [
            "/// The SigV4 signing name of the service.",
            "pub const SIGNING_NAME: &str = %s;" % rust_str(self.meta.get("signingName", self.meta["endpointPrefix"])),
            "",
        ]
        return "\n".join(header + self.out) + "\n"


SOURCE = {}
INPUT_SHA256 = {}
with open(os.path.abspath(__file__), "rb") as _f:
    GENERATOR_SHA256 = hashlib.sha256(_f.read()).hexdigest()


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for module, fname in SERVICES:
        SOURCE[module] = fname
        with open(os.path.join(ROOT, "models", fname), "rb") as f:
            raw = f.read()
        INPUT_SHA256[module] = hashlib.sha256(raw).hexdigest()
        model = json.loads(raw)
        g = Gen(module, model)
        g.run()
        text = g.render()
        path = os.path.join(OUT_DIR, module + ".rs")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        # rustfmt makes the output canonical, so "regenerate, then diff" is a freshness check.
        subprocess.run(["rustfmt", "--edition", "2024", path], check=True)


if __name__ == "__main__":
    main()
