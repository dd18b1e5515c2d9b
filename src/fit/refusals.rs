//! Requests turned away, as the files record them, and the queue the fitted model takes from
//! them. Turned away: a status by which the server, or the proxy in front of it, would not take
//! the request (429 Too Many Requests, 503 Service Unavailable, and a proxy's 502 and 504 when it
//! could not reach the server behind it or heard nothing back), or no response at all (a
//! connection refused, reset or timed out: JMeter's "Non HTTP response code", status 0 in k6 and
//! vegeta). A Locust history counts failures without saying why: those are of unknown cause.
//!
//! Where the data show no request turned away and no failure of unknown cause, nothing says the
//! real queue ever filled at the data's load, so the model gets no queue bound: a small one would
//! turn away requests the real server held (the reality check's 80% log missed its round trip by
//! exactly that). Where they show some, the queue stays an assumption of as many places as
//! threads. Not a diagnosis of each failure: a 504 can be a slow server as well as a full
//! backlog; both count, as signs that the server's room ran out.

use serde::{Deserialize, Serialize};

/// How a request's failure reads (a success is `Answered`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Refusal {
    /// Answered: a success, or a failure that is not a refusal (404, 500, ...).
    #[default]
    Answered,
    /// Turned away (429, 502, 503, 504) or not answered at all (no connection).
    TurnedAway,
    /// Failed, and the file does not say how (a Locust history's failures).
    CauseUnknown,
    /// The client gave up waiting (vegeta's `Client.Timeout` error with code 0): the server
    /// was slow, it did not turn the request away. Not a queue's evidence.
    TimedOut,
}

/// What vegeta's code 0 means, from its error column: a timeout of the client (it gave up on a
/// slow answer: `Client.Timeout exceeded`, `context deadline exceeded`, `i/o timeout`), else a
/// connection that failed (refused, reset, no such host): turned away.
pub(crate) fn of_no_response(error: &str) -> Refusal {
    let e = error.to_ascii_lowercase();
    if e.contains("client.timeout") || e.contains("deadline exceeded") || e.contains("i/o timeout")
    {
        Refusal::TimedOut
    } else {
        Refusal::TurnedAway
    }
}

/// What an HTTP status says; 0 (no response) is for the callers whose files write 0 for a
/// failed connection (k6, vegeta), not for a log that lacks the field.
pub(crate) fn of_status(status: u16) -> Refusal {
    match status {
        429 | 502 | 503 | 504 => Refusal::TurnedAway,
        _ => Refusal::Answered,
    }
}

/// What a JMeter `responseCode` says: a status, or "Non HTTP response code: ..." when the
/// request got no response (connection refused, reset, timed out).
pub(crate) fn of_jmeter_code(code: &str) -> Refusal {
    match code.trim().parse::<u16>() {
        Ok(s) => of_status(s),
        Err(_) if code.starts_with("Non HTTP response code") => Refusal::TurnedAway,
        Err(_) => Refusal::Answered,
    }
}

/// The requests turned away and the failures of unknown cause, as fit.json counts them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Refusals {
    /// Turned away (429, 502, 503, 504) or never answered (no connection).
    pub turned_away: u64,
    /// Failed without the file saying how (Locust).
    pub cause_unknown: u64,
    /// The client gave up waiting (vegeta's `Client.Timeout`): failures, not refusals.
    #[serde(default)]
    pub timed_out: u64,
}

impl Refusals {
    pub(crate) fn add(&mut self, r: Refusal) {
        match r {
            Refusal::Answered => {}
            Refusal::TurnedAway => self.turned_away += 1,
            Refusal::CauseUnknown => self.cause_unknown += 1,
            Refusal::TimedOut => self.timed_out += 1,
        }
    }

    /// Whether the data rule out a queue that fills at their load: nothing turned away, and no
    /// failure that might have been.
    pub(crate) fn none_seen(&self) -> bool {
        self.turned_away == 0 && self.cause_unknown == 0
    }

    /// model.toml's lines for the tier's queue (`threads`: the tier's threads), each ending in
    /// its reason; comment lines only when the model has no bound. `fitted`: the queue fitted
    /// (`queue_fit`: its places and why), where the data told it.
    pub(crate) fn model_lines(
        &self,
        requests: u64,
        threads: u32,
        fitted: Option<(u32, String)>,
    ) -> Vec<String> {
        if let Some((places, why)) = fitted.filter(|_| !self.none_seen()) {
            return vec![format!("queue = {places}   # {why}")];
        }
        if self.none_seen() {
            return vec![
                format!(
                    "# queue: no bound (no `queue` key). ASSUMPTION: none of the {requests} requests was turned away (no 429,"
                ),
                "# 502, 503 or 504, no failed connection), so the data never saw the real queue fill: a small queue".into(),
                "# would turn away requests the server held. Set `queue` to the real bound (listen backlog,".into(),
                "# worker queue) to see overload.".into(),
            ];
        }
        vec![format!(
            "queue = {threads}   # ASSUMPTION: as many waiting places as threads; {}: set the real bound",
            self.evidence()
        )]
    }

    /// The terminal's line: the queue and why.
    pub(crate) fn terminal_line(&self, threads: u32, fitted: Option<(u32, String)>) -> String {
        let mut line = match fitted.filter(|_| !self.none_seen()) {
            Some((places, why)) => format!("queue: {places} places, {why}; {}", self.evidence()),
            None => self.queue_line(threads),
        };
        if self.timed_out > 0 {
            line.push_str(&format!(
                "; {} timed out at the client (it gave up waiting: failures of a slow server, not turned away)",
                crate::fmt::counted(self.timed_out, "request", "requests")
            ));
        }
        line
    }

    fn queue_line(&self, threads: u32) -> String {
        if self.none_seen() {
            "queue: no bound, ASSUMED: no request was turned away (no 429/502/503/504, no failed connection), so the data never saw the queue fill; set `queue` in model.toml to the real bound".into()
        } else {
            format!(
                "queue: {threads} places, ASSUMED (as many as threads): {}; set `queue` in model.toml to the real bound",
                self.evidence()
            )
        }
    }

    fn evidence(&self) -> String {
        match (self.turned_away, self.cause_unknown) {
            (0, u) => format!(
                "{} failed and the file does not say why (they may have been turned away)",
                crate::fmt::counted(u, "request", "requests")
            ),
            (t, 0) => format!(
                "the data show {} turned away (429/502/503/504 or no connection): the real queue does fill",
                crate::fmt::counted(t, "request", "requests")
            ),
            (t, u) => format!(
                "the data show {} turned away (429/502/503/504 or no connection) and {} of unknown cause",
                crate::fmt::counted(t, "request", "requests"),
                crate::fmt::counted(u, "failure", "failures")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_that_turn_a_request_away() {
        for s in [429, 502, 503, 504] {
            assert_eq!(of_status(s), Refusal::TurnedAway, "{s}");
        }
        for s in [200, 304, 400, 404, 499, 500] {
            assert_eq!(of_status(s), Refusal::Answered, "{s}");
        }
        assert_eq!(of_jmeter_code("503"), Refusal::TurnedAway);
        assert_eq!(of_jmeter_code("500"), Refusal::Answered);
        assert_eq!(
            of_jmeter_code("Non HTTP response code: org.apache.http.conn.HttpHostConnectException"),
            Refusal::TurnedAway
        );
        assert_eq!(of_jmeter_code(""), Refusal::Answered);
        assert_eq!(
            of_no_response(
                "Get \"http://x/\": net/http: request canceled (Client.Timeout exceeded while awaiting headers)"
            ),
            Refusal::TimedOut
        );
        assert_eq!(
            of_no_response("Get \"http://x/\": dial tcp 127.0.0.1:80: connect: connection refused"),
            Refusal::TurnedAway
        );
    }

    #[test]
    fn the_queue_follows_the_refusals() {
        let none = Refusals::default();
        let lines = none.model_lines(3245, 4, None);
        assert!(lines.iter().all(|l| l.starts_with('#')), "{lines:?}");
        assert!(lines[0].contains("none of the 3245 requests"), "{lines:?}");
        let mut seen = Refusals::default();
        seen.add(Refusal::TurnedAway);
        seen.add(Refusal::Answered);
        assert_eq!(seen.turned_away, 1);
        let lines = seen.model_lines(10, 4, None);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].starts_with("queue = 4   # ASSUMPTION"),
            "{lines:?}"
        );
        assert!(lines[0].contains("1 request turned away"), "{lines:?}");
        let mut unknown = Refusals::default();
        unknown.add(Refusal::CauseUnknown);
        assert!(!unknown.none_seen());
        assert!(unknown.model_lines(10, 4, None)[0].contains("does not say why"));
    }
}
