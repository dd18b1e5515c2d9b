//! vegeta results written with `vegeta encode --to csv`: no header, one request a line:
//! `timestamp,code,latency,bytes_out,bytes_in,error,body,attack,seq,method,url,headers`, the
//! timestamp (when the request was sent) and the latency in nanoseconds. A request is a success
//! when its code is below 400 and its error empty. A code 0 is no response: a client timeout
//! (`Client.Timeout exceeded`, the client gave up on a slow server) counts as timed out, any
//! other error (connection refused, no such host) as turned away (`refusals`).

use super::input::{FormatInfo, LineParser, Requests, field, path_of, split_csv};

#[derive(Debug, Default)]
pub(crate) struct Vegeta {
    fields: Vec<(usize, usize)>,
}

impl LineParser for Vegeta {
    fn format(&self) -> FormatInfo {
        FormatInfo::new("vegeta (encode --to csv)", 1e-9)
    }
    fn parse(&mut self, line: &str, to: &mut Requests) -> Result<(), String> {
        split_csv(line, &mut self.fields);
        if self.fields.len() < 6 {
            return Err(format!(
                "{} fields; vegeta CSV has at least 6",
                self.fields.len()
            ));
        }
        let fields = &self.fields;
        let f = |i: usize| field(line, fields, i);
        let ts: i64 = f(0)
            .parse()
            .map_err(|_| format!("timestamp `{}` is not nanoseconds since 1970", f(0)))?;
        let code: u16 = f(1)
            .parse()
            .map_err(|_| format!("code `{}` is not a status", f(1)))?;
        let lat: i64 = f(2)
            .parse()
            .ok()
            .filter(|x: &i64| *x >= 0)
            .ok_or_else(|| format!("latency `{}` is not nanoseconds", f(2)))?;
        let ok = (1..400).contains(&code) && f(5).is_empty();
        let url = f(10);
        let label = if url.is_empty() {
            "(all)"
        } else {
            path_of(url)
        };
        let start_s = (ts / 1_000_000_000) as f64 + (ts % 1_000_000_000) as f64 * 1e-9;
        let r = to.push(label, start_s, lat as f64 * 1e-9, ok, f32::NAN);
        if !ok {
            // code 0: no response (the connection failed; the error column says how)
            r.refusal = match code {
                0 => super::refusals::of_no_response(f(5)),
                c => super::refusals::of_status(c),
            };
        }
        Ok(())
    }
}
