/**
 * Solution to chapter 1, exercise 2: the old forms of an IPv4 address. inet_aton() (and so
 * getaddrinfo) accepts one to four parts, each decimal, octal (0…) or hex (0x…), the last part
 * filling the remaining bytes; inet_pton() accepts only the four-part dotted decimal.
 *
 * Run:   npm run build && node build/examples/solutions/01-inet-forms.js
 */
import { AF_INET, OSError, inet_aton, inet_pton } from "sockit/bsd";

for (const text of ["127.0.0.1", "127.1", "0x7f.1", "0177.0.0.1", "2130706433"]) {
  const b = inet_aton(text);
  console.log(`inet_aton(${JSON.stringify(text)}) = ${[...b].join(".")} (${b.toString("hex")})`);
}
for (const text of ["127.0.0.1", "127.1"]) {
  try {
    console.log(`inet_pton(AF_INET, ${JSON.stringify(text)}) = ${inet_pton(AF_INET, text).toString("hex")}`);
  } catch (err) {
    if (!(err instanceof OSError)) throw err;
    console.log(`inet_pton(AF_INET, ${JSON.stringify(text)}): ${err.name} ${err.code}`);
  }
}
