//! The HTTP side: `GET|POST /bot<token>/<method>` with parameters in the query string, a JSON
//! body or a form body, answered with `{ok: true, result}` or
//! `{ok: false, error_code, description[, parameters]}` as the Bot API does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::Shared;
use crate::objects;
use crate::world::{SentMessage, WebhookInfo};

/// Longest accepted message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Largest request body read.
const MAX_BODY_BYTES: usize = 64 << 20;
/// Longest `getUpdates` timeout honoured, in seconds.
const MAX_POLL_TIMEOUT: u64 = 50;

type Params = Map<String, Value>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(move |request: axum::extract::Request| {
        let shared = shared.clone();
        async move {
            // The strict flood limits count a send from when its request arrived.
            let arrived = Instant::now();
            let (parts, body) = request.into_parts();
            let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
                return bad("request body too large").into_response();
            };
            let answer = dispatch(&shared, &parts.uri, &parts.headers, &body, arrived).await;
            cut_off_if_asked(&shared, &parts.uri, answer)
        }
    })
}

/// Fault mode ([`crate::Emulator::cut_off_answers`]): a successful answer with a non-empty
/// result loses its closing brackets, as when a proxy drops the connection mid-answer. What
/// the method did stays done; nothing is confirmed by the broken answer.
fn cut_off_if_asked(shared: &Shared, uri: &Uri, answer: Answer) -> Response {
    let Answer(status, value) = &answer;
    let has_result = value.get("ok") == Some(&Value::Bool(true))
        && value
            .get("result")
            .is_some_and(|r| !r.as_array().is_some_and(Vec::is_empty));
    let method = uri
        .path()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(status.is_success() && has_result && shared.world().take_cut_off(&method)) {
        return answer.into_response();
    }
    shared.bump();
    let whole = value.to_string();
    let cut = whole.trim_end_matches(['}', ']']).to_owned();
    (*status, [(header::CONTENT_TYPE, "application/json")], cut).into_response()
}

/// A Bot API answer.
pub(crate) struct Answer(StatusCode, Value);

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.0,
            [(header::CONTENT_TYPE, "application/json")],
            self.1.to_string(),
        )
            .into_response()
    }
}

fn ok(result: Value) -> Answer {
    Answer(StatusCode::OK, json!({"ok": true, "result": result}))
}

fn error(code: u16, description: &str) -> Answer {
    Answer(
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        json!({"ok": false, "error_code": code, "description": description}),
    )
}

fn bad(description: &str) -> Answer {
    error(400, &format!("Bad Request: {description}"))
}

async fn dispatch(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    arrived: Instant,
) -> Answer {
    let mut segments = uri.path().trim_start_matches('/').splitn(2, '/');
    let (Some(bot), Some(method)) = (segments.next(), segments.next()) else {
        return error(404, "Not Found");
    };
    let Some(token) = bot.strip_prefix("bot") else {
        return error(404, "Not Found");
    };
    if token != shared.world().token {
        return error(401, "Unauthorized");
    }
    let params = match parse_params(uri.query(), headers, body) {
        Ok(p) => p,
        Err(problem) => return bad(&problem),
    };
    // Method names are case-insensitive in the Bot API.
    match method.to_ascii_lowercase().as_str() {
        "getme" => get_me(shared),
        "getupdates" => get_updates(shared, &params).await,
        "sendmessage" => send_message(shared, &params, arrived),
        "answercallbackquery" => answer_callback_query(shared, &params),
        "setmycommands" => set_my_commands(shared, &params),
        "getmycommands" => get_my_commands(shared, &params),
        "deletemycommands" => delete_my_commands(shared, &params),
        "setwebhook" => set_webhook(shared, &params),
        "deletewebhook" => delete_webhook(shared, &params),
        "getwebhookinfo" => get_webhook_info(shared),
        _ => error(404, "Not Found"),
    }
}

fn parse_params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Params, String> {
    let mut params = Params::new();
    if let Some(q) = query {
        form_pairs(q, &mut params);
    }
    if body.is_empty() {
        return Ok(params);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => params.extend(map),
            _ => return Err("can't parse JSON object".into()),
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        form_pairs(&String::from_utf8_lossy(body), &mut params);
    } else if let Some(boundary) =
        content_type
            .strip_prefix("multipart/form-data")
            .and_then(|rest| {
                rest.split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
            })
    {
        multipart(body, boundary.trim_matches('"'), &mut params)?;
    } else {
        return Err(format!("unsupported content type {content_type:?}"));
    }
    Ok(params)
}

/// Text fields of a `multipart/form-data` body (teloxide uses it for `setWebhook`, which may
/// carry a certificate file). File parts are kept as text too; the emulator never reads them.
fn multipart(body: &[u8], boundary: &str, params: &mut Params) -> Result<(), String> {
    let body = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            return Err("can't parse multipart part".into());
        };
        let name = head
            .lines()
            .filter(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .find_map(|l| {
                l.split(';')
                    .find_map(|p| p.trim().strip_prefix("name="))
                    .map(|n| n.trim_matches('"').to_owned())
            })
            .ok_or("multipart part without a name")?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        params.insert(name, Value::String(value.to_owned()));
    }
    Ok(())
}

fn form_pairs(encoded: &str, params: &mut Params) {
    if let Ok(url) = reqwest::Url::parse(&format!("http://form/?{encoded}")) {
        for (k, v) in url.query_pairs() {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
    }
}

/// An integer parameter, given as a number or as a numeric string (form bodies).
fn int(params: &Params, key: &str) -> Option<i64> {
    match params.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string(params: &Params, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn boolean(params: &Params, key: &str) -> bool {
    match params.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

/// A JSON-serialised parameter (objects arrive as JSON strings in form bodies).
fn object(params: &Params, key: &str) -> Result<Option<Value>, String> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|_| format!("can't parse {key} JSON object")),
        Some(v) => Ok(Some(v.clone())),
    }
}

fn get_me(shared: &Shared) -> Answer {
    let world = shared.world();
    ok(objects::bot_user(world.bot_id, &world.bot_username))
}

async fn get_updates(shared: &Shared, params: &Params) -> Answer {
    let offset = int(params, "offset");
    let limit = int(params, "limit").unwrap_or(100).clamp(1, 100);
    let limit = usize::try_from(limit).unwrap_or(100);
    let timeout = int(params, "timeout").unwrap_or(0).max(0);
    let timeout = Duration::from_secs(u64::try_from(timeout).unwrap_or(0).min(MAX_POLL_TIMEOUT));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut changes = shared.changed.subscribe();
    loop {
        {
            let mut world = shared.world();
            if world.webhook.is_some() {
                return error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use \
                     deleteWebhook to delete the webhook first",
                );
            }
            if let Some(offset) = offset {
                world.confirm(offset);
            }
            let mut batch: Vec<Value> = Vec::new();
            while batch.len() < limit {
                match world.again.pop_front() {
                    Some((_, u)) => batch.push(u),
                    None => break,
                }
            }
            let from = offset.unwrap_or(i64::MIN);
            let rest = limit - batch.len();
            batch.extend(
                world
                    .queue
                    .iter()
                    .filter(|(id, _)| *id >= from)
                    .take(rest)
                    .map(|(_, u)| u.clone()),
            );
            if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
                return ok(Value::Array(batch));
            }
            changes.mark_unchanged();
        }
        shared.polls.send_modify(|n| *n += 1);
        let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
        shared.polls.send_modify(|n| *n = n.saturating_sub(1));
        // Look again: an update arrived, or the timeout passed (then the answer is empty).
    }
}

fn send_message(shared: &Shared, params: &Params, arrived: Instant) -> Answer {
    let Some(chat_id) = int(params, "chat_id") else {
        return match params.get("chat_id") {
            Some(_) => bad("chat not found"),
            None => bad("chat_id is empty"),
        };
    };
    let text = string(params, "text").unwrap_or_default();
    if text.trim().is_empty() {
        return bad("message text is empty");
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return bad("message is too long");
    }
    let reply_markup = match object(params, "reply_markup") {
        Ok(m) => m,
        Err(problem) => return bad(&problem),
    };
    if let Some(m) = &reply_markup
        && let Some(rows) = m.get("inline_keyboard")
        && !rows
            .as_array()
            .is_some_and(|r| r.iter().all(Value::is_array))
    {
        return bad(
            "field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays",
        );
    }
    let answer = {
        let mut world = shared.world();
        let Some(chat) = world.chats.get(&chat_id) else {
            return bad("chat not found");
        };
        if chat.blocked {
            return error(403, "Forbidden: bot was blocked by the user");
        }
        let chat_json = objects::chat(chat_id, &chat.kind);
        let now = if world.strict_limits {
            arrived
        } else {
            Instant::now()
        };
        if let Err(retry_after) = world.flood.admit(chat_id, now) {
            world.count_429 += 1;
            drop(world);
            shared.bump();
            return Answer(
                StatusCode::TOO_MANY_REQUESTS,
                json!({
                    "ok": false,
                    "error_code": 429,
                    "description": format!("Too Many Requests: retry after {retry_after}"),
                    "parameters": {"retry_after": retry_after},
                }),
            );
        }
        let message_id = world.next_message_id(chat_id);
        let from = objects::bot_user(world.bot_id, &world.bot_username);
        world.sent_total += 1;
        world.sent.entry(chat_id).or_default().push(SentMessage {
            chat_id,
            message_id,
            text: text.clone(),
            reply_markup: reply_markup.clone(),
            at: now,
        });
        ok(objects::text_message(
            message_id,
            from,
            chat_json,
            objects::unix_now(),
            &text,
            reply_markup.as_ref(),
        ))
    };
    shared.bump();
    answer
}

fn answer_callback_query(shared: &Shared, params: &Params) -> Answer {
    let Some(id) = string(params, "callback_query_id") else {
        return bad("query_id is empty");
    };
    {
        let mut world = shared.world();
        let Some(pos) = world.callbacks_open.iter().position(|c| *c == id) else {
            return bad("query is too old and response timeout expired or query ID is invalid");
        };
        world.callbacks_open.remove(pos);
        world.callbacks_answered.push(id);
    }
    shared.bump();
    ok(Value::Bool(true))
}

fn valid_command(c: &str) -> bool {
    (1..=32).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn set_my_commands(shared: &Shared, params: &Params) -> Answer {
    let commands = match object(params, "commands") {
        Ok(Some(Value::Array(c))) => c,
        Ok(_) => return bad("parameter \"commands\" is required"),
        Err(problem) => return bad(&problem),
    };
    let mut list = Vec::new();
    for c in commands {
        let command = c.get("command").and_then(Value::as_str).unwrap_or_default();
        let description = c
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !valid_command(command) {
            return bad("BOT_COMMAND_INVALID");
        }
        if !(1..=256).contains(&description.chars().count()) {
            return bad("BOT_COMMAND_DESCRIPTION_INVALID");
        }
        list.push((command.to_owned(), description.to_owned()));
    }
    let lang = string(params, "language_code").unwrap_or_default();
    shared.world().commands.insert(lang, list);
    shared.bump();
    ok(Value::Bool(true))
}

fn get_my_commands(shared: &Shared, params: &Params) -> Answer {
    let lang = string(params, "language_code").unwrap_or_default();
    let list = shared
        .world()
        .commands
        .get(&lang)
        .cloned()
        .unwrap_or_default();
    ok(Value::Array(
        list.into_iter()
            .map(|(c, d)| json!({"command": c, "description": d}))
            .collect(),
    ))
}

fn delete_my_commands(shared: &Shared, params: &Params) -> Answer {
    let lang = string(params, "language_code").unwrap_or_default();
    shared.world().commands.remove(&lang);
    shared.bump();
    ok(Value::Bool(true))
}

fn set_webhook(shared: &Shared, params: &Params) -> Answer {
    let url = string(params, "url").unwrap_or_default();
    if url.is_empty() {
        // An empty URL removes the webhook, as in the Bot API.
        return delete_webhook(shared, params);
    }
    match reqwest::Url::parse(&url) {
        Ok(u) if u.scheme() == "https" => {}
        Ok(_) => return bad("bad webhook: An HTTPS URL must be provided for webhook"),
        Err(_) => return bad("bad webhook: Failed to resolve host: Name or service not known"),
    }
    let secret_token = string(params, "secret_token");
    if let Some(s) = &secret_token
        && !((1..=256).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return bad("secret token contains unallowed characters");
    }
    {
        let mut world = shared.world();
        if boolean(params, "drop_pending_updates") {
            world.queue.clear();
            world.again.clear();
        }
        world.webhook = Some(WebhookInfo { url, secret_token });
    }
    shared.bump();
    ok(Value::Bool(true))
}

fn delete_webhook(shared: &Shared, params: &Params) -> Answer {
    {
        let mut world = shared.world();
        if boolean(params, "drop_pending_updates") {
            world.queue.clear();
            world.again.clear();
        }
        world.webhook = None;
    }
    shared.bump();
    ok(Value::Bool(true))
}

fn get_webhook_info(shared: &Shared) -> Answer {
    let world = shared.world();
    let pending = world.queue.len() + world.again.len();
    let mut info = json!({
        "url": world.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
        "has_custom_certificate": false,
        "pending_update_count": pending,
    });
    if world.webhook.is_some() {
        info["max_connections"] = json!(40);
    }
    if let Some(e) = &world.webhook_last_error {
        info["last_error_date"] = json!(objects::unix_now());
        info["last_error_message"] = json!(e);
    }
    ok(info)
}
