"""Writes the small samples of tests/fit.rs, one per tool, in each tool's own layout
(nginx combined + $request_time, Apache combined + %D, JMeter 5 CSV JTL, k6 --out csv,
Locust stats history, vegeta encode --to csv). Run from this folder: python3 make_samples.py"""
import random, gzip, datetime
random.seed(4)
t0 = 1700000000
# nginx combined + $request_time (end-time order)
lines = []
for i in range(40):
    end = t0 + i * 3
    dt = datetime.datetime.fromtimestamp(end, datetime.timezone(datetime.timedelta(hours=-5)))
    tl = dt.strftime('%d/%b/%Y:%H:%M:%S -0500')
    path = ['/', '/search?q=visa', '/static/app.js', '/apply'][i % 4]
    st = 500 if i == 7 else 200
    rt = round(random.lognormvariate(-2.5, 0.6), 3)
    lines.append(f'203.0.113.{i % 50} - - [{tl}] "GET {path} HTTP/1.1" {st} {1000 + i} "https://example.org/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36" {rt:.3f}')
text = '\n'.join(lines) + '\n'
open('nginx.log', 'w').write(text)
open('nginx.log.1.gz', 'wb').write(gzip.compress(text.encode(), mtime=0))
bad = lines[:20] + ['this is not a log line'] + lines[20:]
open('nginx-some-garbage.log', 'w').write('\n'.join(bad) + '\n')
worse = lines[:20] + ['<html>oops</html>'] * 5
open('nginx-mostly-garbage.log', 'w').write('\n'.join(worse) + '\n')
# Apache combined + %D (request start time, microseconds)
lines = []
for i in range(40):
    dt = datetime.datetime.fromtimestamp(t0 + i * 3, datetime.timezone.utc)
    tl = dt.strftime('%d/%b/%Y:%H:%M:%S +0000')
    us = int(random.lognormvariate(-2.5, 0.6) * 1e6)
    code = 404 if i == 3 else 200
    lines.append(f'192.0.2.{i % 30} - frank [{tl}] "POST /api/orders?page={i} HTTP/1.1" {code} 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)" {us}')
open('apache.log', 'w').write('\n'.join(lines) + '\n')
# JMeter JTL CSV (JMeter 5.x default columns)
rows = ['timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect']
failmsg = '"Test failed: code expected to contain /200/, got 500, ""Internal"""'
for i in range(120):
    th = 1 + i // 20
    el = int(random.lognormvariate(-2.0, 0.5) * 1000)
    ok = i != 13
    label = 'Home page' if i % 3 else 'Login'
    url = 'https://example.org/' + ('' if i % 3 else 'login')
    rows.append(','.join(map(str, [t0 * 1000 + i * 1000, el, label, 200 if ok else 500,
        'OK' if ok else 'Internal Server Error', f'Thread Group 1-{th}', 'text',
        'true' if ok else 'false', '' if ok else failmsg, 1591, 123, th, th, url, max(el - 5, 0), 0, 12])))
open('results.jtl', 'w').write('\n'.join(rows) + '\n')
# k6 --out csv
rows = ['metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata']
for i in range(30):
    ts = t0 + i
    if i % 10 == 0:
        rows.append(f'vus,{ts},{5 + i // 10}.000000,,,,,,,,,,,,,,,,')
    d = random.lognormvariate(-2.2, 0.5) * 1000
    w = d * 0.9
    st = 200 if i != 4 else 503
    exp = 'true' if st == 200 else 'false'
    tags = f',,,{exp},,GET,https://test.k6.io/news.php?id={i},HTTP/1.1,default,,{st},,tls1.3,https://test.k6.io/news.php?id={i},,'
    for m, v in [('http_reqs', 1.0), ('http_req_duration', d), ('http_req_blocked', 0.01),
                 ('http_req_connecting', 0.0), ('http_req_tls_handshaking', 0.0),
                 ('http_req_sending', 0.02), ('http_req_waiting', w),
                 ('http_req_receiving', d - w - 0.02), ('http_req_failed', 0.0 if st == 200 else 1.0)]:
        rows.append(f'{m},{ts},{v:.6f},' + tags)
    rows.append(f'iterations,{ts},1.000000,,,,,,,,,default,,,,,,,')
open('k6.csv', 'w').write('\n'.join(rows) + '\n')
# Locust stats history (Aggregated and per-name rows); the average, 115.31 ms, is the mean of
# these percentiles (linear between them), as Locust's own columns would agree
rows = ['Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size',
        f'{t0},0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0.0']
total = 0
fails = 0
for i in range(1, 21):
    users = min(i * 5, 50)
    n = 8 * users // 5
    total += n
    fails += 1 if i % 5 == 0 else 0
    p = ','.join(map(str, [110, 130, 140, 150, 180, 210, 250, 280, 300, 300, 300]))
    rows.append(f'{t0 + i},{users},,Aggregated,{n:.6f},0.000000,{p},{total},{fails},110,115.31,42,300,1024.0')
    rows.append(f'{t0 + i},{users},GET,/,{n:.6f},0.000000,{p},{total},{fails},110,115.31,42,300,1024.0')
open('locust_stats_history.csv', 'w').write('\n'.join(rows) + '\n')
# vegeta encode --to csv (no header)
rows = []
for i in range(40):
    ts = t0 * 10**9 + i * 20_000_000 + 12345
    lat = int(random.lognormvariate(-4, 0.4) * 1e9)
    code = 200 if i != 9 else 0
    err = '' if code else '"Get ""http://localhost:8080/"": dial tcp 127.0.0.1:8080: connect: connection refused"'
    rows.append(f'{ts},{code},{lat},0,{12 if code else 0},{err},SGVsbG8sIHdvcmxkIQ==,,{i},GET,http://localhost:8080/,Q29udGVudC1UeXBlOiB0ZXh0L3BsYWluDQo=')
open('vegeta.csv', 'w').write('\n'.join(rows) + '\n')
