//! Policy templates with `@{parameter}` placeholders and `@Enabled` statements, as AWS
//! renders them for role templates (AcquireRole) and delegation requests' permission
//! templates: pure text to text, no I/O.

use std::collections::BTreeMap;

use oxiam_protocol::ServiceError;
use oxiam_protocol::iam::errors as iam_errors;

/// Each parameter's values, and whether it is a list parameter.
pub(crate) type Values = BTreeMap<String, (Vec<String>, bool)>;

pub(crate) fn render_error(message: String) -> ServiceError {
    ServiceError::new(
        iam_errors::INVALID_INPUT,
        format!("Failed to render template: {message}"),
    )
}

/// The most text one rendering may make, all its strings together. Every rendered document
/// is far smaller (a delegation's policy is at most 2,048 characters, a role's inline policy
/// 10,240): the bound is what stops list parameters multiplied together (every combination
/// of several in one string) from asking for more than memory holds before any size check.
const RENDERED_BYTES: usize = 256 * 1024;

/// What a rendering may still make, in bytes.
pub(crate) struct Budget(usize);

impl Budget {
    pub(crate) fn new() -> Self {
        Self(RENDERED_BYTES)
    }

    fn spend(&mut self, bytes: usize) -> Result<(), ServiceError> {
        self.0 = self
            .0
            .checked_sub(bytes)
            .ok_or_else(|| render_error(format!("the template renders to more than {RENDERED_BYTES} bytes")))?;
        Ok(())
    }
}

/// Every rendering of `text` (several when a list placeholder with several values is in
/// it), and whether a list placeholder was: then the text stands for a list. What it makes
/// is paid from `budget` before it is made.
pub(crate) fn expand(text: &str, values: &Values, budget: &mut Budget) -> Result<(Vec<String>, bool), ServiceError> {
    let mut out = vec![String::new()];
    let mut listed = false;
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        let Some(len) = rest[start..].find('}') else { break };
        let name = &rest[start + 2..start + len];
        let (choices, is_list) = values
            .get(name)
            .ok_or_else(|| render_error(format!("Parameter '{name}' not found.")))?;
        listed |= *is_list;
        let prefix = &rest[..start];
        // Each rendering so far, times each value: its text, the prefix, and the value.
        let done: usize = out.iter().map(String::len).sum();
        let values_len: usize = choices.iter().map(String::len).sum();
        let cost = done
            .saturating_mul(choices.len())
            .saturating_add(out.len().saturating_mul(choices.len()).saturating_mul(prefix.len()))
            .saturating_add(out.len().saturating_mul(values_len));
        budget.spend(cost)?;
        out = out
            .iter()
            .flat_map(|done| choices.iter().map(move |c| format!("{done}{prefix}{c}")))
            .collect();
        rest = &rest[start + len + 1..];
    }
    budget.spend(out.len().saturating_mul(rest.len()))?;
    for done in &mut out {
        done.push_str(rest);
    }
    Ok((out, listed))
}

/// One string of the template that must render to one string (a name, a path).
pub(crate) fn expand_one(text: &str, values: &Values) -> Result<String, ServiceError> {
    let (mut all, _) = expand(text, values, &mut Budget::new())?;
    match all.len() {
        1 => Ok(all.remove(0)),
        n => Err(render_error(format!("{text} renders to {n} values, not one"))),
    }
}

/// Renders a policy document template: statements whose `@Enabled` parameter is not true
/// are left out (the key with them), and each string is rendered; one holding a list
/// placeholder becomes the list of its renderings. `None`: every statement was left out.
pub(crate) fn render_document(template: &str, values: &Values) -> Result<Option<String>, ServiceError> {
    let mut document: serde_json::Value =
        serde_json::from_str(template).map_err(|e| render_error(format!("the template's policy is not JSON: {e}")))?;
    if let Some(statements) = document.get_mut("Statement") {
        if let serde_json::Value::Array(list) = statements {
            let mut kept = Vec::with_capacity(list.len());
            for statement in list.drain(..) {
                if let Some(s) = enabled(statement, values)? {
                    kept.push(s);
                }
            }
            *list = kept;
        } else if statements.is_object() {
            let statement = statements.take();
            *statements = enabled(statement, values)?.unwrap_or(serde_json::Value::Array(Vec::new()));
        }
    }
    if document
        .get("Statement")
        .is_some_and(|s| s.as_array().is_some_and(Vec::is_empty))
    {
        return Ok(None);
    }
    let rendered = render_value(document, values, &mut Budget::new())?;
    Ok(Some(rendered.to_string()))
}

/// The statement without its `@Enabled` key, or `None` when that parameter is not true.
fn enabled(mut statement: serde_json::Value, values: &Values) -> Result<Option<serde_json::Value>, ServiceError> {
    let Some(flag) = statement.as_object_mut().and_then(|s| s.remove("@Enabled")) else {
        return Ok(Some(statement));
    };
    // `"!NAME"` keeps the statement when NAME is not true.
    let flag = flag.as_str().unwrap_or_default();
    let (name, negated) = match flag.strip_prefix('!') {
        Some(name) => (name, true),
        None => (flag, false),
    };
    let on = values
        .get(name)
        .is_some_and(|(v, _)| v.len() == 1 && v[0].eq_ignore_ascii_case("true"));
    Ok((on != negated).then_some(statement))
}

fn render_value(
    value: serde_json::Value,
    values: &Values,
    budget: &mut Budget,
) -> Result<serde_json::Value, ServiceError> {
    use serde_json::Value;
    Ok(match value {
        Value::String(text) => {
            let (mut all, listed) = expand(&text, values, budget)?;
            if listed {
                Value::Array(all.into_iter().map(Value::String).collect())
            } else {
                Value::String(all.remove(0))
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match render_value(item, values, budget)? {
                    // A list placeholder inside a list adds its values to it.
                    Value::Array(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Value::Array(out)
        }
        Value::Object(members) => {
            let mut out = serde_json::Map::new();
            for (key, member) in members {
                out.insert(expand_one(&key, values)?, render_value(member, values, budget)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Vec<String>, bool)]) -> Values {
        pairs
            .iter()
            .map(|(k, v, l)| ((*k).to_owned(), (v.clone(), *l)))
            .collect()
    }

    #[test]
    fn list_placeholders_render_every_combination() {
        let v = values(&[
            ("a", vec!["1".into(), "2".into()], true),
            ("b", vec!["x".into(), "y".into()], true),
        ]);
        let (all, listed) = expand("s/@{a}/@{b}", &v, &mut Budget::new()).unwrap();
        assert!(listed);
        assert_eq!(all, ["s/1/x", "s/1/y", "s/2/x", "s/2/y"]);
    }

    #[test]
    fn combinations_past_the_budget_are_refused_before_they_are_made() {
        // 1,000 values in four placeholders would be 10^12 strings.
        let many: Vec<String> = (0..1000).map(|i| format!("value-{i}")).collect();
        let v = values(&[("a", many, true)]);
        let document =
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::@{a}@{a}@{a}@{a}"}]}"#;
        assert!(render_document(document, &v).is_err());
        // Many strings, each within bounds, are bounded together too.
        let one: Vec<String> = (0..1000).map(|i| format!("{i:0>200}")).collect();
        let v = values(&[("a", one, true)]);
        let document = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":[{}]}}]}}"#,
            [r#""@{a}""#; 10].join(",")
        );
        assert!(render_document(&document, &v).is_err());
    }
}
