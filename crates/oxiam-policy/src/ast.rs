//! The parsed, validated form of a policy document ([`Policy`]). Plain data with public fields:
//! what the document says, normalised only where the grammar allows several spellings (a
//! single string or an array, `Statement` as an object or an array).

/// The policy language version (`Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `"2008-10-17"`, or no `Version` element: policy variables are literal text.
    V2008,
    /// `"2012-10-17"`: policy variables are substituted.
    V2012,
}

impl Version {
    /// The `Version` string as written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::V2008 => "2008-10-17",
            Version::V2012 => "2012-10-17",
        }
    }
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The kind the document was parsed and validated as.
    pub kind: crate::PolicyKind,
    /// `None` when the document has no `Version` element (treated as 2008-10-17).
    pub version: Option<Version>,
    /// The optional `Id` element.
    pub id: Option<String>,
    /// Statements in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Whether `${…}` policy variables are substituted (Version 2012-10-17).
    pub fn variables_enabled(&self) -> bool {
        self.version == Some(Version::V2012)
    }

    /// Every value listed under `"AWS"` in `Principal`/`NotPrincipal` elements, in document
    /// order. The server uses this to check that named users and roles exist (IAM answers
    /// `Invalid principal in policy: "AWS":"…"` when they do not).
    pub fn aws_principals(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for statement in &self.statements {
            if let Some(PrincipalSpec {
                value: PrincipalValue::Map(map),
                ..
            }) = &statement.principal
            {
                for (ty, values) in map {
                    if *ty == PrincipalType::Aws {
                        out.extend(values.iter().map(String::as_str));
                    }
                }
            }
        }
        out
    }
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `"Allow"`
    Allow,
    /// `"Deny"`
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `Sid`, if present (an empty `Sid` is kept as `Some("")`).
    pub sid: Option<String>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal` (resource-based and trust policies only).
    pub principal: Option<PrincipalSpec>,
    /// `Action` or `NotAction`.
    pub action: ActionSpec,
    /// `Resource` or `NotResource`; `None` in trust policies.
    pub resource: Option<ResourceSpec>,
    /// Every (operator, key) pair of the `Condition` block, in document order. Blocks of
    /// unknown operators that IAM tolerates (only when empty) are not kept.
    pub conditions: Vec<Condition>,
}

/// `Action` (`not == false`) or `NotAction` (`not == true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionSpec {
    /// `NotAction` rather than `Action`.
    pub not: bool,
    /// The action patterns as written.
    pub values: Vec<String>,
}

/// `Resource` (`not == false`) or `NotResource` (`not == true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// `NotResource` rather than `Resource`.
    pub not: bool,
    /// The resource patterns as written.
    pub values: Vec<String>,
}

/// `Principal` (`not == false`) or `NotPrincipal` (`not == true`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalSpec {
    /// `NotPrincipal` rather than `Principal`.
    pub not: bool,
    /// What it lists.
    pub value: PrincipalValue,
}

/// The value of a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalValue {
    /// `"*"` (equivalent to `{"AWS": "*"}`): everyone, anonymous callers included.
    Any,
    /// `{"AWS": …, "Service": …, …}` in document order.
    Map(Vec<(PrincipalType, Vec<String>)>),
}

/// The keys of a `Principal` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalType {
    /// `"AWS"`: accounts, users, roles, sessions.
    Aws,
    /// `"Service"`: AWS service principals such as `ec2.amazonaws.com`.
    Service,
    /// `"Federated"`: web-identity or SAML providers.
    Federated,
    /// `"CanonicalUser"`: S3 canonical user ids.
    CanonicalUser,
}

impl PrincipalType {
    pub(crate) fn from_key(key: &str) -> Option<PrincipalType> {
        match key {
            "AWS" => Some(PrincipalType::Aws),
            "Service" => Some(PrincipalType::Service),
            "Federated" => Some(PrincipalType::Federated),
            "CanonicalUser" => Some(PrincipalType::CanonicalUser),
            _ => None,
        }
    }

    /// The key as written in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Aws => "AWS",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
            PrincipalType::CanonicalUser => "CanonicalUser",
        }
    }
}

/// One condition: an operator applied to one context key with one or more values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator (with qualifier and `IfExists`).
    pub operator: Operator,
    /// The condition key as written (keys are compared case-insensitively).
    pub key: String,
    /// The policy values; JSON numbers and booleans are kept as their text.
    pub values: Vec<String>,
}

/// A condition operator with its optional set qualifier and `IfExists` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The operator proper.
    pub base: OperatorBase,
    /// `ForAllValues:` / `ForAnyValue:`, if given.
    pub set: Option<SetQualifier>,
    /// The `IfExists` suffix.
    pub if_exists: bool,
}

/// `ForAllValues:` or `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetQualifier {
    /// Every request value must match (true when the key is missing or empty).
    ForAllValues,
    /// At least one request value must match (false when the key is missing or empty).
    ForAnyValue,
}

/// The condition operators of the IAM policy language, named as in documents (AWS IAM User
/// Guide, "IAM JSON policy elements: Condition operators").
#[expect(missing_docs, reason = "each variant is the operator of the same name")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorBase {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl OperatorBase {
    /// All operators, in the order of the AWS documentation.
    pub const ALL: [OperatorBase; 27] = [
        OperatorBase::StringEquals,
        OperatorBase::StringNotEquals,
        OperatorBase::StringEqualsIgnoreCase,
        OperatorBase::StringNotEqualsIgnoreCase,
        OperatorBase::StringLike,
        OperatorBase::StringNotLike,
        OperatorBase::NumericEquals,
        OperatorBase::NumericNotEquals,
        OperatorBase::NumericLessThan,
        OperatorBase::NumericLessThanEquals,
        OperatorBase::NumericGreaterThan,
        OperatorBase::NumericGreaterThanEquals,
        OperatorBase::DateEquals,
        OperatorBase::DateNotEquals,
        OperatorBase::DateLessThan,
        OperatorBase::DateLessThanEquals,
        OperatorBase::DateGreaterThan,
        OperatorBase::DateGreaterThanEquals,
        OperatorBase::Bool,
        OperatorBase::BinaryEquals,
        OperatorBase::IpAddress,
        OperatorBase::NotIpAddress,
        OperatorBase::ArnEquals,
        OperatorBase::ArnLike,
        OperatorBase::ArnNotEquals,
        OperatorBase::ArnNotLike,
        OperatorBase::Null,
    ];

    /// The operator's name as written in documents.
    pub fn as_str(self) -> &'static str {
        use OperatorBase::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<OperatorBase> {
        OperatorBase::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// Negated ("Not") operators: with several policy values the key must match none of them,
    /// and a missing key makes the condition true.
    pub fn is_negated(self) -> bool {
        use OperatorBase::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Operators whose values may contain policy variables (String and ARN families, and
    /// `Bool`, which the condition-operators page lists as supporting them).
    pub fn takes_variables(self) -> bool {
        use OperatorBase::*;
        matches!(
            self,
            StringEquals
                | StringNotEquals
                | StringEqualsIgnoreCase
                | StringNotEqualsIgnoreCase
                | StringLike
                | StringNotLike
                | ArnEquals
                | ArnLike
                | ArnNotEquals
                | ArnNotLike
                | Bool
        )
    }

    pub(crate) fn is_date(self) -> bool {
        use OperatorBase::*;
        matches!(
            self,
            DateEquals | DateNotEquals | DateLessThan | DateLessThanEquals | DateGreaterThan | DateGreaterThanEquals
        )
    }
}

impl Operator {
    /// Parses an operator name such as `ForAnyValue:StringLikeIfExists`. The set prefix and the
    /// `IfExists` suffix are each stripped once, as IAM does; names are case-sensitive.
    pub fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(base) => (true, base),
            None => (false, rest),
        };
        Some(Operator {
            base: OperatorBase::from_name(base)?,
            set,
            if_exists,
        })
    }
}

impl std::fmt::Display for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.set {
            Some(SetQualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(SetQualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_round_trip() {
        for base in OperatorBase::ALL {
            for set in [None, Some(SetQualifier::ForAllValues), Some(SetQualifier::ForAnyValue)] {
                for if_exists in [false, true] {
                    let op = Operator { base, set, if_exists };
                    assert_eq!(Operator::parse(&op.to_string()), Some(op));
                }
            }
        }
        assert_eq!(Operator::parse("ForAnyValue::StringEqualsIfExists"), None);
        assert_eq!(Operator::parse("stringequals"), None);
        assert_eq!(Operator::parse("StringEqualsIfExistsIfExists"), None);
    }
}
