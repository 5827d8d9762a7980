//! Check-run bodies judged as GitHub judges them (the `checks/create` and `checks/update`
//! schemas and their documented limits), and applied to the stored run.

use crate::CheckRun;
use serde_json::Value;

const STATUSES: &[&str] = &["queued", "in_progress", "completed"];
/// Statuses GitHub lets only GitHub Actions set.
const ACTIONS_ONLY: &[&str] = &["waiting", "requested", "pending"];
const CONCLUSIONS: &[&str] = &[
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
];
const LEVELS: &[&str] = &["notice", "warning", "failure"];
const TEXT_LIMIT: usize = 65_535;
const ANNOTATION_TEXT_LIMIT: usize = 64 * 1024;
const ANNOTATIONS_PER_REQUEST: usize = 50;

/// What is wrong with a body: `refused` makes GitHub answer 422; `ignored` are fields GitHub
/// drops silently (still a client bug worth a violation).
#[derive(Debug, Default)]
pub(crate) struct Problems {
    pub(crate) refused: Vec<String>,
    pub(crate) ignored: Vec<String>,
}

fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Judge a create (`existing` = None) or update body.
pub(crate) fn judge(body: &Value, existing: Option<&CheckRun>) -> Problems {
    let mut p = Problems::default();
    let Some(map) = body.as_object() else {
        p.refused.push("the body is not a JSON object".into());
        return p;
    };
    let create = existing.is_none();
    for key in map.keys() {
        let known = matches!(
            key.as_str(),
            "name"
                | "details_url"
                | "external_id"
                | "status"
                | "started_at"
                | "conclusion"
                | "completed_at"
                | "output"
                | "actions"
        ) || (create && key == "head_sha");
        if !known {
            p.ignored.push(format!("unknown field {key:?}"));
        }
    }
    let text = |key: &str| map.get(key).filter(|v| !v.is_null());
    let string = |p: &mut Problems, key: &str| -> Option<String> {
        match text(key) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                p.refused
                    .push(format!("{key} must be a string, not {other}"));
                None
            }
        }
    };
    let name = string(&mut p, "name");
    let head_sha = string(&mut p, "head_sha");
    let status = string(&mut p, "status");
    let conclusion = string(&mut p, "conclusion");
    let started_at = string(&mut p, "started_at");
    let completed_at = string(&mut p, "completed_at");
    string(&mut p, "details_url");
    string(&mut p, "external_id");
    if create {
        match &name {
            Some(n) if !n.trim().is_empty() => {}
            _ => p.refused.push("\"name\" wasn't supplied".into()),
        }
        match &head_sha {
            Some(s) if is_sha(s) => {}
            Some(s) => p.refused.push(format!("head_sha {s:?} is not a commit id")),
            None => p.refused.push("\"head_sha\" wasn't supplied".into()),
        }
    } else if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        p.refused.push("name must not be empty".into());
    }
    if let Some(s) = &status {
        if ACTIONS_ONLY.contains(&s.as_str()) {
            p.refused
                .push(format!("status {s:?} can be set only by GitHub Actions"));
        } else if !STATUSES.contains(&s.as_str()) {
            p.refused
                .push(format!("status {s:?} is not one of {STATUSES:?}"));
        }
    }
    if let Some(c) = &conclusion {
        if c == "stale" {
            p.refused
                .push("conclusion \"stale\" can be set only by GitHub".into());
        } else if !CONCLUSIONS.contains(&c.as_str()) {
            p.refused
                .push(format!("conclusion {c:?} is not one of {CONCLUSIONS:?}"));
        }
    }
    let has_conclusion = conclusion.is_some() || existing.is_some_and(|r| r.conclusion.is_some());
    if status.as_deref() == Some("completed") && !has_conclusion {
        p.refused
            .push("status \"completed\" needs a conclusion".into());
    }
    if completed_at.is_some() && !has_conclusion {
        p.refused.push("completed_at needs a conclusion".into());
    }
    if conclusion.is_some() && matches!(status.as_deref(), Some("queued" | "in_progress")) {
        p.refused.push(format!(
            "a conclusion with status {:?}",
            status.as_deref().unwrap_or("")
        ));
    }
    for (key, value) in [("started_at", &started_at), ("completed_at", &completed_at)] {
        if let Some(v) = value {
            if !crate::time::is_iso8601(v) {
                p.refused.push(format!(
                    "{key} {v:?} is not an ISO 8601 timestamp (YYYY-MM-DDTHH:MM:SSZ)"
                ));
            }
        }
    }
    if let Some(output) = text("output") {
        judge_output(output, &mut p);
    }
    if let Some(actions) = text("actions") {
        judge_actions(actions, &mut p);
    }
    p
}

fn judge_output(output: &Value, p: &mut Problems) {
    let Some(o) = output.as_object() else {
        p.refused.push("output must be an object".into());
        return;
    };
    for key in o.keys() {
        if !matches!(
            key.as_str(),
            "title" | "summary" | "text" | "annotations" | "images"
        ) {
            p.ignored.push(format!("unknown field output.{key}"));
        }
    }
    for (key, required) in [("title", true), ("summary", true), ("text", false)] {
        match o.get(key) {
            Some(Value::String(s)) if key != "title" && chars(s) > TEXT_LIMIT => {
                p.refused.push(format!(
                    "output.{key} has {} characters; GitHub takes at most {TEXT_LIMIT}",
                    chars(s)
                ))
            }
            Some(Value::String(_)) => {}
            None | Some(Value::Null) if !required => {}
            None | Some(Value::Null) => p.refused.push(format!("\"output.{key}\" wasn't supplied")),
            Some(other) => p
                .refused
                .push(format!("output.{key} must be a string, not {other}")),
        }
    }
    match o.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            if list.len() > ANNOTATIONS_PER_REQUEST {
                p.refused.push(format!(
                    "{} annotations in one request; GitHub takes at most {ANNOTATIONS_PER_REQUEST}",
                    list.len()
                ));
            }
            for (i, a) in list.iter().enumerate() {
                judge_annotation(i, a, p);
            }
        }
        Some(other) => p
            .refused
            .push(format!("output.annotations must be a list, not {other}")),
    }
    match o.get("images") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, img) in list.iter().enumerate() {
                for key in ["alt", "image_url"] {
                    if !img.get(key).is_some_and(Value::is_string) {
                        p.refused
                            .push(format!("output.images[{i}].{key} wasn't supplied"));
                    }
                }
            }
        }
        Some(other) => p
            .refused
            .push(format!("output.images must be a list, not {other}")),
    }
}

fn judge_annotation(i: usize, a: &Value, p: &mut Problems) {
    let at = format!("output.annotations[{i}]");
    let Some(map) = a.as_object() else {
        p.refused.push(format!("{at} must be an object"));
        return;
    };
    for key in map.keys() {
        if !matches!(
            key.as_str(),
            "path"
                | "start_line"
                | "end_line"
                | "start_column"
                | "end_column"
                | "annotation_level"
                | "message"
                | "title"
                | "raw_details"
        ) {
            p.ignored.push(format!("unknown field {at}.{key}"));
        }
    }
    match map.get("path") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => p.refused.push(format!("{at}.path wasn't supplied")),
    }
    let line = |key: &str| map.get(key).and_then(Value::as_u64);
    let (start, end) = (line("start_line"), line("end_line"));
    for (key, v) in [("start_line", start), ("end_line", end)] {
        if v.is_none_or(|n| n < 1) {
            p.refused
                .push(format!("{at}.{key} must be a line number from 1"));
        }
    }
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            p.refused
                .push(format!("{at}: end_line {e} is before start_line {s}"));
        }
        let columns = map.contains_key("start_column") || map.contains_key("end_column");
        if columns && s != e {
            p.refused.push(format!(
                "{at}: columns are allowed only when start_line equals end_line"
            ));
        }
    }
    for key in ["start_column", "end_column"] {
        if map.get(key).is_some_and(|v| v.as_u64().is_none()) {
            p.refused
                .push(format!("{at}.{key} must be a positive integer"));
        }
    }
    match map.get("annotation_level").and_then(Value::as_str) {
        Some(l) if LEVELS.contains(&l) => {}
        other => p.refused.push(format!(
            "{at}.annotation_level {other:?} is not one of {LEVELS:?}"
        )),
    }
    match map.get("message") {
        Some(Value::String(s)) if s.is_empty() => p.refused.push(format!("{at}.message is empty")),
        Some(Value::String(s)) if s.len() > ANNOTATION_TEXT_LIMIT => p.refused.push(format!(
            "{at}.message is {} bytes; GitHub takes at most 64 KB",
            s.len()
        )),
        Some(Value::String(_)) => {}
        _ => p.refused.push(format!("{at}.message wasn't supplied")),
    }
    match map.get("title") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if chars(s) > 255 => p.refused.push(format!(
            "{at}.title has {} characters; GitHub takes at most 255",
            chars(s)
        )),
        Some(Value::String(_)) => {}
        Some(other) => p
            .refused
            .push(format!("{at}.title must be a string, not {other}")),
    }
    match map.get("raw_details") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s.len() > ANNOTATION_TEXT_LIMIT => p.refused.push(format!(
            "{at}.raw_details is {} bytes; GitHub takes at most 64 KB",
            s.len()
        )),
        Some(Value::String(_)) => {}
        Some(other) => p
            .refused
            .push(format!("{at}.raw_details must be a string, not {other}")),
    }
}

fn judge_actions(actions: &Value, p: &mut Problems) {
    let Some(list) = actions.as_array() else {
        p.refused.push("actions must be a list".into());
        return;
    };
    if list.len() > 3 {
        p.refused
            .push(format!("{} actions; GitHub takes at most 3", list.len()));
    }
    for (i, a) in list.iter().enumerate() {
        for (key, limit) in [("label", 20), ("description", 40), ("identifier", 20)] {
            match a.get(key).and_then(Value::as_str) {
                Some(s) if chars(s) <= limit => {}
                Some(s) => p.refused.push(format!(
                    "actions[{i}].{key} has {} characters; GitHub takes at most {limit}",
                    chars(s)
                )),
                None => p
                    .refused
                    .push(format!("actions[{i}].{key} wasn't supplied")),
            }
        }
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A new run from a create body that [`judge`] accepted.
pub(crate) fn create(id: i64, owner: &str, repo: &str, body: &Value, now: &str) -> CheckRun {
    let mut run = CheckRun {
        id,
        owner: owner.to_string(),
        repo: repo.to_string(),
        head_sha: text_of(body, "head_sha").unwrap_or_default(),
        name: String::new(),
        status: "queued".into(),
        conclusion: None,
        output_title: None,
        output_summary: None,
        output_text: None,
        external_id: None,
        details_url: None,
        started_at: Some(now.to_string()),
        completed_at: None,
        annotations: Vec::new(),
        actions: Vec::new(),
        patches: 0,
    };
    apply(&mut run, body, now);
    run
}

/// Apply a body [`judge`] accepted: fields replace, annotations append.
pub(crate) fn apply(run: &mut CheckRun, body: &Value, now: &str) {
    if let Some(n) = text_of(body, "name") {
        run.name = n;
    }
    if let Some(u) = text_of(body, "details_url") {
        run.details_url = Some(u);
    }
    if let Some(e) = text_of(body, "external_id") {
        run.external_id = Some(e);
    }
    if let Some(s) = text_of(body, "started_at") {
        run.started_at = Some(s);
    }
    if let Some(s) = text_of(body, "status") {
        if s != "completed" {
            // Back to queued or in progress (a re-run): the old result no longer holds.
            run.conclusion = None;
            run.completed_at = None;
        }
        run.status = s;
    }
    if let Some(c) = text_of(body, "conclusion") {
        run.conclusion = Some(c);
        run.status = "completed".into();
        run.completed_at = Some(text_of(body, "completed_at").unwrap_or_else(|| now.to_string()));
    }
    if let Some(output) = body.get("output").filter(|o| o.is_object()) {
        if let Some(t) = text_of(output, "title") {
            run.output_title = Some(t);
        }
        if let Some(s) = text_of(output, "summary") {
            run.output_summary = Some(s);
        }
        if let Some(t) = text_of(output, "text") {
            run.output_text = Some(t);
        }
        if let Some(list) = output.get("annotations").and_then(Value::as_array) {
            run.annotations.extend(list.iter().cloned());
        }
    }
    if let Some(actions) = body.get("actions").and_then(Value::as_array) {
        run.actions = actions.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn annotation(line: u64) -> Value {
        json!({"path": "a.rs", "start_line": line, "end_line": line, "annotation_level": "failure", "message": "m"})
    }

    #[test]
    fn a_good_create_and_completion_pass() {
        let create = json!({
            "name": "vouch", "head_sha": "a".repeat(40), "status": "in_progress",
            "started_at": "2026-01-01T00:00:00Z", "external_id": "1",
            "output": {"title": "t", "summary": "s"},
        });
        let p = judge(&create, None);
        assert!(p.refused.is_empty() && p.ignored.is_empty(), "{p:?}");
        let mut run = super::create(1, "o", "r", &create, "now");
        let done = json!({
            "status": "completed", "conclusion": "failure", "completed_at": "2026-01-01T00:01:00Z",
            "output": {"title": "t2", "summary": "s2", "annotations": [annotation(1), annotation(2)]},
        });
        assert!(judge(&done, Some(&run)).refused.is_empty());
        apply(&mut run, &done, "now");
        assert_eq!(
            (run.status.as_str(), run.conclusion.as_deref()),
            ("completed", Some("failure"))
        );
        assert_eq!(run.annotations.len(), 2);
        assert_eq!(run.output_title.as_deref(), Some("t2"));
    }

    #[test]
    fn what_github_refuses_is_refused() {
        let cases = [
            ("no name", json!({"head_sha": "a".repeat(40)})),
            ("no sha", json!({"name": "n"})),
            ("short sha", json!({"name": "n", "head_sha": "abc"})),
            (
                "bad status",
                json!({"name": "n", "head_sha": "a".repeat(40), "status": "done"}),
            ),
            (
                "actions-only status",
                json!({"name": "n", "head_sha": "a".repeat(40), "status": "pending"}),
            ),
            (
                "completed without conclusion",
                json!({"name": "n", "head_sha": "a".repeat(40), "status": "completed"}),
            ),
            (
                "bad conclusion",
                json!({"name": "n", "head_sha": "a".repeat(40), "conclusion": "passed"}),
            ),
            (
                "bad time",
                json!({"name": "n", "head_sha": "a".repeat(40), "started_at": "yesterday"}),
            ),
            (
                "output without summary",
                json!({"name": "n", "head_sha": "a".repeat(40), "output": {"title": "t"}}),
            ),
            (
                "51 annotations",
                json!({"name": "n", "head_sha": "a".repeat(40), "output": {"title": "t", "summary": "s", "annotations": (1..=51).map(annotation).collect::<Vec<_>>()}}),
            ),
            (
                "bad level",
                json!({"name": "n", "head_sha": "a".repeat(40), "output": {"title": "t", "summary": "s", "annotations": [{"path": "a", "start_line": 1, "end_line": 1, "annotation_level": "error", "message": "m"}]}}),
            ),
            (
                "columns across lines",
                json!({"name": "n", "head_sha": "a".repeat(40), "output": {"title": "t", "summary": "s", "annotations": [{"path": "a", "start_line": 1, "end_line": 2, "start_column": 1, "annotation_level": "notice", "message": "m"}]}}),
            ),
            (
                "summary too long",
                json!({"name": "n", "head_sha": "a".repeat(40), "output": {"title": "t", "summary": "x".repeat(65_536)}}),
            ),
            ("not an object", json!([1])),
        ];
        for (case, body) in cases {
            assert!(!judge(&body, None).refused.is_empty(), "{case}");
        }
        let unknown = judge(
            &json!({"name": "n", "head_sha": "a".repeat(40), "colour": "red"}),
            None,
        );
        assert!(unknown.refused.is_empty());
        assert_eq!(
            unknown.ignored,
            vec!["unknown field \"colour\"".to_string()]
        );
    }

    #[test]
    fn a_rerun_clears_the_result() {
        let mut run = super::create(
            1,
            "o",
            "r",
            &json!({"name": "n", "head_sha": "a".repeat(40), "conclusion": "success"}),
            "now",
        );
        assert_eq!(run.status, "completed");
        apply(&mut run, &json!({"status": "in_progress"}), "later");
        assert_eq!(
            (run.status.as_str(), run.conclusion.clone()),
            ("in_progress", None)
        );
    }
}
