#!/usr/bin/env bash
# Writes the seed corpus of each fuzz target into fuzz/corpus/<target>/ (seed-* files).
# Idempotent: the seeds are rewritten, anything the fuzzer added is kept.
# Usage: fuzz/seeds.sh            (from anywhere; needs bash, printf, gzip)
set -euo pipefail
cd "$(dirname "$0")"

scanner=corpus/scanner
request=corpus/request
influxql=corpus/influxql
credentials=corpus/credentials
params=corpus/params
gzip=corpus/gzip
mkdir -p "$scanner" "$request" "$influxql" "$credentials" "$params" "$gzip"

# ---- credentials: byte 0 (bits 0-1 path, 0x04 query, 0x08 header), query 0xFF header.
c() { local name=$1; shift; printf "$@" > "$credentials/seed-$name"; }
c bearer    '\x0b\xffBearer apiv3_abc'
c token     '\x08\xffToken my-token'
c basic     '\x0a\xffBasic dXNlcjp0b2tlbg=='
c basic-bad '\x0a\xffBasic !!!'
c up        '\x04u=me&p=secret'
c up-query  '\x05db=d&u=me&p=s%%20x&q=SELECT'
c both      '\x0c\x70=a\xffToken b'
c lower     '\x08\xffbearer x'

# ---- params: byte 0 (bit 0: JSON body instead of a form), query 0xFF body.
p() { local name=$1; shift; printf "$@" > "$params/seed-$name"; }
p v1        '\x00db=home&rp=autogen&precision=s&u=x&p=y&consistency=one\xff'
p v2        '\x00org=o&bucket=b/weekly&precision=ms&orgID=1\xff'
p v3        '\x00db=d&precision=auto&accept_partial=false&no_sync=true\xff'
p query     '\x00db=d&q=SELECT%%201&epoch=ms&chunked=true&chunk_size=10&params=%%7B%%22h%%22%%3A1%%7D\xff'
p form      '\x00db=d\xffq=SHOW+DATABASES&rp=x'
p json      '\x01\xff{"db":"d","q":"SELECT 1","format":"csv","params":{"a":"b"}}'
p twice     '\x00db=a&db=b&q=x\xff'
p bad       '\x00db=&precision=xs&q=%%ZZ\xff'

# ---- influxql: the statements of the InfluxQL corpus, one seed each.
n=0
while IFS= read -r statement; do
  case $statement in '' | '#'*) continue ;; esac
  n=$((n + 1))
  printf '%s' "${statement#\[*\] }" > "$influxql/seed-$n"
done < ../native-server/tests/influxql/statements.txt

# ---- scanner: byte 0 picks the precision (0 auto, 1 h, 2 m, 3 s, 4 ms, 5 us, 6 ns), the
# rest is the body.
s() { local name=$1; shift; printf "$@" > "$scanner/seed-$name"; }
s valid-ns   '\x06cpu,host=a,region=us usage=0.5,cores=4i,up=true,name="x" 1700000000000000000\n'
s valid-s    '\x03cpu,host=a usage=0.5 1700000000\n# a comment\n\nmem free=\n'
s auto-crlf  '\x00weather,loc=a\\ b temp=1e3,u=5u,s="multi\nline \\"q\\"" 1700000000000\r\nw t=1 1700000000\r\n'
s escapes    '\x06m\\,x,k\\=1=v\\ 2,z=\\\\ f\\,=1,g\\ h=-5 -5\n'
s errors     '\x06cpu,=a v=1\ncpu v=1,v=2\ncpu time=1\ncpu,t=1 t=1\ncpu v=1 abc\ncpu\tv=1\ncpu v=1\rx\n,x v=1\ncpu v="open\n'
s timestamps '\x06a b=1 -9223372036854775808\na b=1 9223372036854775807\na b=1 9223372036854775808\na b=1 1x\n'
s overflow   '\x01a b=1 9999999999\na b=1 2562047\na b=1 -2562047\n'
s numbers    '\x04n f=1.7976931348623157e308,g=4.9e-324,i=-9223372036854775808i,u=18446744073709551615u,b=F,z=-0,e=1E+22\nn x=1e400\nn y=-1u\nn w=.5\nn v=1.\n'
s unicode    '\x05\xc2\xb5,\xd0\xba=\xd0\xb7 \xe5\x80\xa4="\xe2\x9c\x93",trail=1, 0\n'
s backslash  '\x06a\\ b=1\nm,t=v\\ f=1\nm f="a\\\\" 1\nm f="\\\\\\"" 2\n'

# ---- request: flags, chunk control, then query 0xFF authorization 0xFF encoding 0xFF body.
# flags: bits 0-1 method (0 POST, 2 GET, 3 "post"), bits 2-3 path (0 /write, 1 /api/v2/write,
# 2 /api/v3/write_lp, 3 /other), 0x10 query, 0x20 Authorization, 0x40 Content-Encoding.
# control: 1 + (c % 3) chunks, cuts at eighths given by bits 2-4 and 5-7.
r() { local name=$1; shift; printf "$@" > "$request/seed-$name"; }
lines='home,room=kitchen temp=72,hum=40i 1641024000\nhome,room=living temp=70.5 1641024010\n'
r v1-token   '\x30\x00db=home&precision=s\xffToken my-token\xff\xff'"$lines"
r v1-userpass '\x10\x00db=home&rp=autogen&u=user&p=secret\xff\xff\xff'"$lines"
r v1-badline '\x30\x00db=home\xffBearer t\xff\xffhome,room=kitchen temp=\n'
r v2-basic   '\x34\x01org=o&bucket=b&precision=ms\xffBasic dXNlcjp0b2tlbg==\xff\xffcpu v=1 1700000000000\n'
r v2-bad-auth '\x34\x00org=o&bucket=b\xffToken\xff\xffcpu v=1\n'
r v2-empty   '\x14\x00bucket=b/autogen\xff\xff\xff# only a comment\n\n'
r v3-partial '\x18\x92db=d&accept_partial=true&precision=auto\xff\xff\xffcpu v=1\ncpu v=\ncpu v=2 1700000000\nbad\n'
r v3-strict  '\x18\x00db=d&accept_partial=false&no_sync=true\xff\xff\xffcpu v=1\ncpu v=\n'
r get        '\x02\x00db=d\xff\xff\xffcpu v=1\n'
r other-path '\x0c\x00\xff\xff\xffcpu v=1\n'
r brotli     '\x50\x00db=d\xff\xffbr\xffcpu v=1\n'
r bad-param  '\x10\x00db=d&precision=xs\xff\xff\xffcpu v=1\n'
r bad-utf8   '\x10\x00db=d\xff\xff\xffcpu v=1\ncpu v="\xc3\x28"\n'
r bad-gzip   '\x58\x00db=d\xff\xffgzip\xffnot gzip at all\n'

# gzip bodies: one member split in two chunks, two concatenated members in three chunks.
gz() { local name=$1 prefix=$2; shift 2
  { printf "$prefix"; "$@"; } > "$request/seed-$name"; }
gz gzip       '\x58\x11db=d\xff\xffgzip\xff' sh -c "printf '$lines' | gzip -c -n"
gz gzip-multi '\x58\xaadb=d\xff\xff GZIP \xff' sh -c \
  "printf 'a v=1\n' | gzip -c -n; printf 'b v=2 1700000000\n' | gzip -c -n -9"
# A member whose trailer is corrupt (the CRC bytes flipped).
gz gzip-badcrc '\x58\x00db=d\xff\xffgzip\xff' sh -c \
  "printf 'a v=1\n' | gzip -c -n | head -c -8; printf '\000\000\000\000\006\000\000\000'"

# ---- gzip: byte 0 (bit 7: compress the body first; bits 0-1: cuts), bytes 1-3 cut points.
printf '\x83\x40\x80\xc0cpu,host=a v=1 1700000000\n' > "$gzip/seed-roundtrip"
{ printf '\x02\x10\x90\x00'; printf 'a v=1\n' | gzip -c -n; printf 'b v=2\n' | gzip -c -n -9; } > "$gzip/seed-members"
{ printf '\x01\x30\x00\x00'; printf 'a v=1\n' | gzip -c -n | head -c -3; } > "$gzip/seed-truncated"
{ printf '\x00\x00\x00\x00'; head -c 70000 /dev/zero | gzip -c -n; } > "$gzip/seed-over-limit"

echo "seeds: $(ls "$scanner" | grep -c '^seed-') scanner, $(ls "$request" | grep -c '^seed-') request"
