//! A small builder for DynamoDB update and condition expressions: every
//! attribute is referred to through a `#placeholder` (several of ours are
//! reserved words) and every value through a `:placeholder`, registered as
//! they are used, so that an expression never names one it does not send
//! (DynamoDB rejects unused names and values).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Default)]
pub struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    add: Vec<String>,
    set: Vec<String>,
    remove: Vec<String>,
    conditions: Vec<String>,
}

impl Expr {
    /// The placeholder for an attribute name (`wait_7` → `#wait_7`), or for
    /// a dotted path inside a map (`lease.state` → `#lease.#state`): no
    /// attribute of ours has a dot in its name.
    pub fn name(&mut self, attribute: &str) -> String {
        if attribute.contains('.') {
            return self.path(&attribute.split('.').collect::<Vec<_>>());
        }
        let placeholder = format!(
            "#{}",
            attribute.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        self.names
            .insert(placeholder.clone(), attribute.to_string());
        placeholder
    }

    /// A nested path: `#wait_7.#beat`.
    pub fn path(&mut self, attributes: &[&str]) -> String {
        attributes
            .iter()
            .map(|a| self.name(a))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// The placeholder for a value, under a name of the caller's choosing.
    pub fn value(&mut self, key: &str, value: AttributeValue) -> String {
        let placeholder = format!(":{key}");
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `ADD <clause>` (a number added to, or created at, its value). ADD
    /// clauses come first in the expression: the emulator applies clauses in
    /// order and keeps what it applied when a later one fails, so a fence
    /// that is not a number must fail before anything is written (DynamoDB
    /// applies all or nothing, in any order).
    pub fn add(&mut self, clause: String) -> &mut Self {
        self.add.push(clause);
        self
    }

    /// `SET <clause>`; the clause is already written with placeholders.
    pub fn set(&mut self, clause: String) -> &mut Self {
        self.set.push(clause);
        self
    }

    pub fn remove(&mut self, path: String) -> &mut Self {
        self.remove.push(path);
        self
    }

    /// A condition; all conditions are joined with AND.
    pub fn condition(&mut self, condition: String) -> &mut Self {
        self.conditions.push(format!("({condition})"));
        self
    }

    pub fn update_expression(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.add.is_empty() {
            parts.push(format!("ADD {}", self.add.join(", ")));
        }
        if !self.set.is_empty() {
            parts.push(format!("SET {}", self.set.join(", ")));
        }
        if !self.remove.is_empty() {
            parts.push(format!("REMOVE {}", self.remove.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    pub fn condition_expression(&self) -> Option<String> {
        (!self.conditions.is_empty()).then(|| self.conditions.join(" AND "))
    }

    /// Applies the expressions, names and values to an UpdateItem request.
    /// Only the placeholders the expressions use are sent: DynamoDB rejects
    /// unused ones, and a caller may register a name for one branch only.
    pub fn to_update(
        self,
        req: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        let update = self.update_expression();
        let condition = self.condition_expression();
        let text = format!(
            "{} {}",
            update.as_deref().unwrap_or(""),
            condition.as_deref().unwrap_or("")
        );
        let names: HashMap<String, String> = self
            .names
            .into_iter()
            .filter(|(p, _)| uses(&text, p))
            .collect();
        let values: HashMap<String, AttributeValue> = self
            .values
            .into_iter()
            .filter(|(p, _)| uses(&text, p))
            .collect();
        req.set_update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
    }
}

/// Whether `text` mentions `placeholder` as a whole word (`#wait_1` is not in
/// `#wait_12`).
fn uses(text: &str, placeholder: &str) -> bool {
    text.match_indices(placeholder).any(|(i, _)| {
        text[i + placeholder.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_what_it_uses() {
        let mut e = Expr::default();
        let state = e.name("state");
        let held = e.value("held", AttributeValue::S("held".into()));
        let beat = e.path(&["wait_7", "beat"]);
        e.set(format!("{state} = {held}")).remove(beat.clone());
        e.condition(format!("attribute_exists({beat})"));
        assert_eq!(
            e.update_expression().unwrap(),
            "SET #state = :held REMOVE #wait_7.#beat"
        );
        // ADD first, whatever the order it was given in.
        let (fence, one) = (
            e.name("fence"),
            e.value("one", AttributeValue::N("1".into())),
        );
        e.add(format!("{fence} {one}"));
        assert_eq!(
            e.update_expression().unwrap(),
            "ADD #fence :one SET #state = :held REMOVE #wait_7.#beat"
        );
        assert_eq!(
            e.condition_expression().unwrap(),
            "(attribute_exists(#wait_7.#beat))"
        );
        assert_eq!(e.names.len(), 4);
        assert_eq!(e.values.len(), 2);
        // A dotted name is a path, one placeholder per part.
        assert_eq!(e.name("lease.state"), "#lease.#state");
        assert_eq!(e.names.get("#lease").map(String::as_str), Some("lease"));
    }

    #[test]
    fn placeholders_are_matched_as_whole_words() {
        assert!(uses("SET #wait_1 = :v", "#wait_1"));
        assert!(!uses("SET #wait_12 = :v", "#wait_1"));
        assert!(uses("(#a.#beat = :b)", "#a"));
        assert!(!uses("#next_ticket = :n", "#next"));
    }
}
