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

/// Every rendering of `text` (several when a list placeholder with several values is in
/// it), and whether a list placeholder was: then the text stands for a list.
pub(crate) fn expand(text: &str, values: &Values) -> Result<(Vec<String>, bool), ServiceError> {
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
        out = out
            .iter()
            .flat_map(|done| choices.iter().map(move |c| format!("{done}{prefix}{c}")))
            .collect();
        rest = &rest[start + len + 1..];
    }
    for done in &mut out {
        done.push_str(rest);
    }
    Ok((out, listed))
}

/// One string of the template that must render to one string (a name, a path).
pub(crate) fn expand_one(text: &str, values: &Values) -> Result<String, ServiceError> {
    let (mut all, _) = expand(text, values)?;
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
    let rendered = render_value(document, values)?;
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

fn render_value(value: serde_json::Value, values: &Values) -> Result<serde_json::Value, ServiceError> {
    use serde_json::Value;
    Ok(match value {
        Value::String(text) => {
            let (mut all, listed) = expand(&text, values)?;
            if listed {
                Value::Array(all.into_iter().map(Value::String).collect())
            } else {
                Value::String(all.remove(0))
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match render_value(item, values)? {
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
                out.insert(expand_one(&key, values)?, render_value(member, values)?);
            }
            Value::Object(out)
        }
        other => other,
    })
}
