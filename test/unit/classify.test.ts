import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DELIVERY_ERROR_CODES, type DeliveryError } from '../../src/domain/delivery-error.ts';
import { classifySmtpError } from '../../src/smtp/classify.ts';
import type { SmtpEndpoint } from '../../src/smtp/endpoint.ts';
import { parseEnhancedStatus } from '../../src/smtp/enhanced-status.ts';

const PASSWORD = 'Zebra-Quokka/7@Pangolin';

const starttls: SmtpEndpoint = {
  scheme: 'smtp',
  host: '127.0.0.1',
  port: 587,
  username: 'mailer@example.test',
  password: PASSWORD,
  security: 'starttls',
  verifyCertificate: true,
  serverName: null,
};
const implicitTls: SmtpEndpoint = {
  ...starttls,
  scheme: 'smtps',
  port: 465,
  security: 'implicit-tls',
};

/** An error shaped like the ones nodemailer 10 really produced against smtp-server and Node 20. */
function nodemailerError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

interface Row {
  name: string;
  err: unknown;
  endpoint?: SmtpEndpoint;
  expect: Partial<DeliveryError>;
  /** Patterns the hint must match. */
  hint?: RegExp[];
  /** Patterns the hint must not match. */
  notHint?: RegExp[];
  message?: RegExp;
}

const rows: Row[] = [
  {
    // Raised by nodemailer itself for smtp://user@host/: the server was never asked.
    name: 'a user name without a password in the URI',
    err: nodemailerError('Missing credentials for "PLAIN"', { code: 'EAUTH', command: 'API' }),
    endpoint: { ...starttls, password: null },
    expect: { code: 'AUTH', permanent: false, responseCode: null },
    hint: [/user name but no password/, /remove the user name to send without AUTH/],
    notHint: [/server requires authentication/],
  },
  {
    name: 'AUTH PLAIN 535',
    err: nodemailerError('Invalid login: 535 5.7.8 Authentication credentials invalid', {
      code: 'EAUTH',
      response: '535 5.7.8 Authentication credentials invalid',
      responseCode: 535,
      permanent: true,
      command: 'AUTH PLAIN',
    }),
    expect: {
      code: 'AUTH',
      permanent: false,
      responseCode: 535,
      enhancedStatus: '5.7.8',
      command: 'AUTH PLAIN',
      response: '535 5.7.8 Authentication credentials invalid',
    },
    hint: [/%40/, /%2F/, /apikey/],
  },
  {
    name: 'AUTH LOGIN 535, multi-line Gmail reply',
    err: nodemailerError('Invalid login: 535-5.7.8 Username and Password not accepted.', {
      code: 'EAUTH',
      response:
        '535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials',
      responseCode: 535,
      command: 'AUTH LOGIN',
    }),
    expect: { code: 'AUTH', permanent: false, enhancedStatus: '5.7.8', command: 'AUTH LOGIN' },
    message:
      /^Authentication failed: 535-5\.7\.8 Username and Password not accepted\. .* 535 5\.7\.8/,
  },
  {
    name: 'AUTH 534 5.7.9 app password required',
    err: nodemailerError('Invalid login: 534-5.7.9 Application-specific password required.', {
      code: 'EAUTH',
      response: '534-5.7.9 Application-specific password required.',
      responseCode: 534,
      command: 'AUTH PLAIN',
    }),
    expect: { code: 'AUTH', permanent: false, enhancedStatus: '5.7.9' },
    hint: [/app password/],
  },
  {
    name: 'AUTH refused because the server offers none (forceAuth)',
    err: nodemailerError('Invalid login: 500 Error: command not recognized', {
      code: 'EAUTH',
      response: '500 Error: command not recognized',
      responseCode: 500,
      permanent: true,
      command: 'AUTH PLAIN',
    }),
    expect: { code: 'AUTH', permanent: false, responseCode: 500 },
    hint: [/does not offer AUTH/],
  },
  {
    name: 'RCPT 550 5.1.1',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown",
      {
        code: 'EENVELOPE',
        response: '550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown',
        responseCode: 550,
        permanent: true,
        command: 'RCPT TO',
        rejected: ['nobody@y.test'],
        rejectedErrors: [
          {
            code: 'EENVELOPE',
            response: '550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown',
            responseCode: 550,
            permanent: true,
            command: 'RCPT TO',
            recipient: 'nobody@y.test',
          },
        ],
      },
    ),
    expect: {
      code: 'RECIPIENT_REJECTED',
      permanent: true,
      responseCode: 550,
      enhancedStatus: '5.1.1',
      command: 'RCPT TO',
      response: '550 5.1.1 <nobody@y.test>: Recipient address rejected: User unknown',
    },
    message: /nobody@y\.test/,
    hint: [/does not exist/],
  },
  {
    name: 'RCPT 550 5.1.10 (Microsoft wording)',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 550 5.1.10 RESOLVER.ADR.RecipientNotFound",
      {
        code: 'EENVELOPE',
        response:
          '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup',
        responseCode: 550,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: '5.1.10' },
    hint: [/does not exist/],
  },
  {
    name: 'RCPT 554 5.7.1 relay denied',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 554 5.7.1 Relay access denied",
      {
        code: 'EENVELOPE',
        response: '554 5.7.1 <b@y.test>: Relay access denied',
        responseCode: 554,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: '5.7.1' },
    hint: [/relay/i],
  },
  {
    name: 'RCPT 451 4.7.1 greylisting',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 451 4.7.1 Greylisted, try again later",
      {
        code: 'EENVELOPE',
        response: '451 4.7.1 Greylisted, try again later',
        responseCode: 451,
        permanent: false,
        command: 'RCPT TO',
      },
    ),
    expect: {
      code: 'RECIPIENT_REJECTED',
      permanent: false,
      responseCode: 451,
      enhancedStatus: '4.7.1',
    },
    hint: [/greylisting/, /temporary/],
  },
  {
    name: 'RCPT 452 4.2.2 mailbox full (temporary)',
    err: nodemailerError("Can't send mail - all recipients were rejected: 452 4.2.2 Mailbox full", {
      code: 'EENVELOPE',
      response: '452 4.2.2 Mailbox full',
      responseCode: 452,
      command: 'RCPT TO',
    }),
    expect: { code: 'RECIPIENT_REJECTED', permanent: false },
    hint: [/mailbox is full for now/, /temporary/],
  },
  {
    name: 'RCPT 421 closes the connection',
    err: nodemailerError('Server closed the connection: 421 4.7.0 Too many connections', {
      code: 'ECONNECTION',
      response: '421 4.7.0 Too many connections',
      responseCode: 421,
      permanent: false,
      command: 'CONN',
    }),
    expect: { code: 'CONNECTION', permanent: false, responseCode: 421, enhancedStatus: '4.7.0' },
    hint: [/busy or shutting down \(421\)/, /temporary/],
  },
  {
    name: 'MAIL FROM 553 5.7.1',
    err: nodemailerError(
      'Mail command failed: 553 5.7.1 <bad@x.test>: Sender address rejected: not owned by user',
      {
        code: 'EENVELOPE',
        response: '553 5.7.1 <bad@x.test>: Sender address rejected: not owned by user',
        responseCode: 553,
        permanent: true,
        command: 'MAIL FROM',
      },
    ),
    expect: {
      code: 'SENDER_REJECTED',
      permanent: true,
      enhancedStatus: '5.7.1',
      command: 'MAIL FROM',
    },
    hint: [/from address/],
  },
  {
    name: 'MAIL FROM 530 authentication required is an AUTH problem',
    err: nodemailerError('Mail command failed: 530 Error: authentication Required', {
      code: 'EENVELOPE',
      response: '530 Error: authentication Required',
      responseCode: 530,
      permanent: true,
      command: 'MAIL FROM',
    }),
    endpoint: { ...starttls, username: null, password: null },
    expect: { code: 'AUTH', permanent: false, responseCode: 530 },
    hint: [/user:password/],
  },
  {
    name: 'MAIL FROM 530 5.7.0 must issue STARTTLS first',
    err: nodemailerError('Mail command failed: 530 5.7.0 Must issue a STARTTLS command first', {
      code: 'EENVELOPE',
      response: '530 5.7.0 Must issue a STARTTLS command first',
      responseCode: 530,
      command: 'MAIL FROM',
    }),
    endpoint: { ...starttls, security: 'cleartext' },
    expect: { code: 'TLS', permanent: false },
    hint: [/disable_starttls/],
  },
  {
    name: 'MAIL FROM 503 bad sequence is not permanent',
    err: nodemailerError('Mail command failed: 503 5.5.1 Error: nested MAIL command', {
      code: 'EENVELOPE',
      response: '503 5.5.1 Error: nested MAIL command',
      responseCode: 503,
      command: 'MAIL FROM',
    }),
    expect: { code: 'PROTOCOL', permanent: false },
  },
  {
    name: 'DATA 554 5.7.1 spam',
    err: nodemailerError('Message failed: 554 5.7.1 Message rejected as spam', {
      code: 'EMESSAGE',
      response: '554 5.7.1 Message rejected as spam',
      responseCode: 554,
      permanent: true,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: '5.7.1', command: 'DATA' },
    hint: [/policy/],
  },
  {
    name: 'DATA 552 without enhanced status (smtp-server size limit)',
    err: nodemailerError(
      'Message failed: 552 Error: message exceeds fixed maximum message size 100',
      {
        code: 'EMESSAGE',
        response: '552 Error: message exceeds fixed maximum message size 100',
        responseCode: 552,
        permanent: true,
        command: 'DATA',
      },
    ),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: null },
    hint: [/larger/],
  },
  {
    name: 'DATA 550 5.7.26 DMARC',
    err: nodemailerError('Message failed: 550-5.7.26 Unauthenticated email is not accepted', {
      code: 'EMESSAGE',
      response:
        "550-5.7.26 Unauthenticated email from example.test is not accepted due to domain's DMARC policy.",
      responseCode: 550,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: '5.7.26' },
    hint: [/SPF/],
  },
  {
    name: 'Gmail 421 4.7.27 SPF at DATA',
    err: nodemailerError(
      "Message failed: 421-4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message.",
      {
        code: 'EMESSAGE',
        response:
          "421-4.7.27 Your email has been rate limited because SPF authentication didn't pass for this message.",
        responseCode: 421,
        command: 'DATA',
      },
    ),
    expect: { code: 'CONNECTION', permanent: false, enhancedStatus: '4.7.27' },
    hint: [/checkSenderDomain/, /SPF item/, /Retries keep failing/],
  },
  {
    name: 'Gmail 550 5.7.26 unauthenticated at DATA',
    err: nodemailerError(
      'Message failed: 550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
      {
        code: 'EMESSAGE',
        response: '550-5.7.26 This mail has been blocked because the sender is unauthenticated.',
        responseCode: 550,
        command: 'DATA',
      },
    ),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: '5.7.26' },
    hint: [/checkSenderDomain/, /ALIGNMENT/],
  },
  {
    name: 'Gmail 421 4.7.30 DKIM at DATA',
    err: nodemailerError(
      "Message failed: 421-4.7.30 Your email has been rate limited because DKIM authentication didn't pass for this message.",
      {
        code: 'EMESSAGE',
        response:
          "421-4.7.30 Your email has been rate limited because DKIM authentication didn't pass for this message.",
        responseCode: 421,
        command: 'DATA',
      },
    ),
    expect: { code: 'CONNECTION', permanent: false, enhancedStatus: '4.7.30' },
    hint: [/checkSenderDomain/, /DKIM item/],
  },
  {
    name: 'Gmail 421 4.7.40 DMARC at DATA',
    err: nodemailerError(
      'Message failed: 421-4.7.40 Your email has been rate limited because DMARC policy is not set for the sending domain.',
      {
        code: 'EMESSAGE',
        response:
          '421-4.7.40 Your email has been rate limited because DMARC policy is not set for the sending domain.',
        responseCode: 421,
        command: 'DATA',
      },
    ),
    expect: { code: 'CONNECTION', permanent: false, enhancedStatus: '4.7.40' },
    hint: [/checkSenderDomain/, /DMARC item/],
  },
  {
    name: 'Microsoft 550 5.7.515 at RCPT TO',
    err: nodemailerError(
      "Message failed: 550 5.7.515 Access denied, sending domain example.test doesn't meet the required authentication level.",
      {
        code: 'EMESSAGE',
        response:
          "550 5.7.515 Access denied, sending domain example.test doesn't meet the required authentication level.",
        responseCode: 550,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: '5.7.515' },
    hint: [/checkSenderDomain/, /Outlook requires SPF, DKIM and DMARC/],
  },
  {
    name: 'RFC 7505 550 5.7.27 null MX keeps its own hint',
    err: nodemailerError('Message failed: 550 5.7.27 Sender address has null MX', {
      code: 'EMESSAGE',
      response: '550 5.7.27 Sender address has null MX',
      responseCode: 550,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: '5.7.27' },
    hint: [/null MX/],
  },
  {
    name: 'DATA 451 temporary',
    err: nodemailerError('Message failed: 451 4.3.0 Temporary local problem', {
      code: 'EMESSAGE',
      response: '451 4.3.0 Temporary local problem',
      responseCode: 451,
      permanent: false,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: false },
    hint: [/problem on its side/, /temporary/],
  },
  {
    name: 'message over the SIZE the server announced (no reply)',
    err: nodemailerError('Message size larger than allowed 1000', {
      code: 'EMESSAGE',
      command: 'MAIL FROM',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, responseCode: null },
  },
  {
    name: 'STARTTLS not offered under smtp://',
    err: nodemailerError(
      'Error upgrading connection with STARTTLS: 500 Error: command not recognized',
      {
        code: 'ETLS',
        response: '500 Error: command not recognized',
        responseCode: 500,
        permanent: true,
        command: 'STARTTLS',
      },
    ),
    expect: { code: 'TLS', permanent: false, command: 'STARTTLS', responseCode: 500 },
    hint: [/smtps:\/\//, /465/, /disable_starttls=true/, /development/],
  },
  {
    name: 'untrusted chain during STARTTLS',
    err: nodemailerError('unable to verify the first certificate', {
      code: 'ESOCKET',
      originalCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      command: 'CONN',
    }),
    expect: { code: 'TLS', permanent: false, command: 'STARTTLS' },
    hint: [/skip_ssl_verify=true/, /testing/],
  },
  {
    name: 'self-signed under smtps://',
    err: nodemailerError('self-signed certificate', {
      code: 'ESOCKET',
      originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      command: 'CONN',
    }),
    endpoint: implicitTls,
    expect: { code: 'TLS', permanent: false, command: 'CONN' },
    hint: [/self-signed/, /skip_ssl_verify=true/],
  },
  {
    name: 'self-signed CA in chain',
    err: nodemailerError('self-signed certificate in certificate chain', {
      code: 'ESOCKET',
      originalCode: 'SELF_SIGNED_CERT_IN_CHAIN',
      command: 'CONN',
    }),
    expect: { code: 'TLS', permanent: false },
    hint: [/private CA/],
  },
  {
    name: 'certificate for another name, connecting to an IP',
    err: nodemailerError(
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      {
        code: 'ESOCKET',
        originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
        reason: "IP: 127.0.0.1 is not in the cert's list: ",
        host: '127.0.0.1',
        cert: { subject: { CN: 'mail.example.test' }, subjectaltname: 'DNS:mail.example.test' },
        command: 'CONN',
      },
    ),
    endpoint: implicitTls,
    expect: { code: 'TLS', permanent: false },
    hint: [
      /certificate is for mail\.example\.test/,
      /you connected to 127\.0\.0\.1/,
      /Connect to mail\.example\.test/,
      /\?server_name=mail\.example\.test/,
    ],
  },
  {
    name: 'certificate for another name, wildcard first',
    err: nodemailerError(
      "Hostname/IP does not match certificate's altnames: Host: smtp.test. is not in the cert's altnames: DNS:*.mail.test, DNS:mail.test",
      {
        code: 'ESOCKET',
        originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
        cert: { subject: { CN: '*.mail.test' }, subjectaltname: 'DNS:*.mail.test, DNS:mail.test' },
        command: 'CONN',
      },
    ),
    endpoint: { ...implicitTls, host: 'smtp.test' },
    expect: { code: 'TLS' },
    hint: [/certificate is for \*\.mail\.test, mail\.test/, /server_name=mail\.test\b/],
  },
  {
    name: 'certificate name mismatch with server_name set',
    err: nodemailerError(
      "Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1",
      {
        code: 'ESOCKET',
        originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
        reason:
          "Host: wrong.test. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1",
        host: 'wrong.test',
        cert: {
          subject: { CN: 'localhost' },
          subjectaltname: 'DNS:localhost, IP Address:127.0.0.1',
        },
        command: 'CONN',
      },
    ),
    endpoint: { ...starttls, serverName: 'wrong.test' },
    expect: { code: 'TLS', command: 'STARTTLS' },
    message: /not valid for wrong\.test \(it is for localhost, 127\.0\.0\.1\)/,
    hint: [/server_name=wrong\.test/, /Set \?server_name=localhost/],
  },
  {
    name: 'expired certificate',
    err: nodemailerError('certificate has expired', {
      code: 'ESOCKET',
      originalCode: 'CERT_HAS_EXPIRED',
      command: 'CONN',
    }),
    expect: { code: 'TLS', permanent: false },
    message: /has expired/,
    hint: [/renew/],
  },
  {
    name: 'TLS spoken to a plaintext port (smtps:// on 587)',
    err: nodemailerError(
      '802C688C027F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      {
        library: 'SSL routines',
        reason: 'wrong version number',
        code: 'ESOCKET',
        originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
        command: 'CONN',
      },
    ),
    endpoint: { ...implicitTls, port: 587 },
    expect: { code: 'TLS', permanent: false, command: 'CONN' },
    message: /did not answer with TLS \(wrong version number\)$/,
    hint: [/Port 587/, /smtps:\/\/ is for port 465/, /use smtp:\/\//],
  },
  {
    name: 'greeting timeout under smtp:// on 465',
    err: nodemailerError('Greeting never received', {
      timeoutType: 'GREETING_TIMEOUT',
      code: 'ETIMEDOUT',
      command: 'CONN',
    }),
    endpoint: { ...starttls, port: 465 },
    expect: { code: 'TIMEOUT', permanent: false, command: 'CONN' },
    hint: [/Port 465 expects TLS from the first byte: use smtps:\/\//],
  },
  {
    name: 'idle socket timeout (e.g. no reply after DATA)',
    err: nodemailerError('Timeout', {
      timeoutType: 'SOCKET_TIMEOUT',
      code: 'ETIMEDOUT',
      command: 'CONN',
    }),
    expect: { code: 'TIMEOUT', permanent: false, command: null },
  },
  {
    name: 'connect timeout on port 25',
    err: nodemailerError('Connection timeout', {
      timeoutType: 'CONNECT_TIMEOUT',
      code: 'ETIMEDOUT',
      command: 'CONN',
    }),
    endpoint: { ...starttls, port: 25 },
    expect: { code: 'TIMEOUT', permanent: false, command: 'CONN' },
    hint: [/block outgoing port 25/, /firewall/],
  },
  {
    name: 'OS-level connect ETIMEDOUT',
    err: nodemailerError('connect ETIMEDOUT 10.0.0.1:587', {
      errno: -110,
      code: 'ESOCKET',
      syscall: 'connect',
      originalCode: 'ETIMEDOUT',
      command: 'CONN',
    }),
    expect: { code: 'TIMEOUT', command: 'CONN' },
    message: /connecting/,
  },
  {
    name: 'connection refused',
    err: nodemailerError('connect ECONNREFUSED 127.0.0.1:1', {
      errno: -111,
      code: 'ESOCKET',
      syscall: 'connect',
      address: '127.0.0.1',
      port: 1,
      originalCode: 'ECONNREFUSED',
      command: 'CONN',
    }),
    expect: { code: 'CONNECTION', permanent: false, command: 'CONN' },
    message: /refused/,
    hint: [/host and port/, /587/, /465/],
  },
  {
    name: 'unknown host',
    err: nodemailerError('getaddrinfo ENOTFOUND no-such-host.invalid', {
      errno: -3008,
      code: 'EDNS',
      syscall: 'getaddrinfo',
      hostname: 'no-such-host.invalid',
      originalCode: 'ENOTFOUND',
      command: 'CONN',
    }),
    endpoint: { ...starttls, host: 'no-such-host.invalid' },
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/spelling/],
  },
  {
    name: 'DNS temporarily failing',
    err: nodemailerError('getaddrinfo EAI_AGAIN smtp.example.test', {
      code: 'EDNS',
      originalCode: 'EAI_AGAIN',
      command: 'CONN',
    }),
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/temporarily/],
  },
  // The destination guard's look-up through DNS_SERVERS: only NXDOMAIN/NODATA are answers.
  ...(
    [
      ['ESERVFAIL', /SERVFAIL/],
      ['ETIMEOUT', /no answer in time/],
      ['ECONNREFUSED', /could not be reached/],
    ] as const
  ).map(([originalCode, why]): Row => ({
    name: `DNS_SERVERS failing for the host (${originalCode})`,
    err: nodemailerError(`cannot resolve the host name smtp.example.test (${originalCode})`, {
      code: 'EDNS',
      originalCode,
    }),
    endpoint: { ...starttls, host: 'smtp.example.test' },
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/temporarily/, why],
    notHint: [/does not exist/, /spelling/],
  })),
  {
    name: 'DNS_SERVERS: the host exists but has no address',
    err: nodemailerError('cannot resolve the host name smtp.example.test (ENODATA)', {
      code: 'EDNS',
      originalCode: 'ENODATA',
    }),
    endpoint: { ...starttls, host: 'smtp.example.test' },
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/no address/],
    notHint: [/does not exist/],
  },
  {
    name: 'server closes before the greeting (pool gave up re-queueing)',
    err: nodemailerError('Reached maximum number of retries after connection was closed', {
      code: 'ECONNECTION',
    }),
    expect: { code: 'CONNECTION', permanent: false, command: null },
  },
  {
    name: 'connection closed mid-transaction',
    err: nodemailerError('Connection closed unexpectedly', {
      code: 'ECONNECTION',
      command: 'CONN',
    }),
    expect: { code: 'CONNECTION', permanent: false },
  },
  {
    name: '421 greeting',
    err: nodemailerError(
      'Invalid greeting. response=421 4.3.2 mx.test Service not available, too busy: 421 4.3.2 mx.test Service not available, too busy',
      {
        code: 'EPROTOCOL',
        response: '421 4.3.2 mx.test Service not available, too busy',
        responseCode: 421,
        permanent: false,
        command: 'CONN',
      },
    ),
    expect: { code: 'CONNECTION', permanent: false, enhancedStatus: '4.3.2' },
  },
  {
    name: '554 greeting (client turned away) is not a message rejection',
    err: nodemailerError('Invalid greeting. response=554 5.7.1 mx.test No SMTP service here', {
      code: 'EPROTOCOL',
      response: '554 5.7.1 mx.test No SMTP service here',
      responseCode: 554,
      permanent: true,
      command: 'CONN',
    }),
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/blocklisted/],
  },
  {
    name: 'not an SMTP server',
    err: nodemailerError(
      'Invalid greeting. response=HTTP/1.1 400 Bad Request: HTTP/1.1 400 Bad Request',
      {
        code: 'EPROTOCOL',
        response: 'HTTP/1.1 400 Bad Request',
        command: 'CONN',
      },
    ),
    expect: {
      code: 'PROTOCOL',
      permanent: false,
      responseCode: null,
      response: 'HTTP/1.1 400 Bad Request',
    },
  },
  // ---- AUTH: the enhanced status picks the hint where servers word it differently
  {
    name: 'AUTH 535 5.7.3 (Exchange wording) is the credentials hint too',
    err: nodemailerError('Invalid login: 535 5.7.3 Authentication unsuccessful', {
      code: 'EAUTH',
      response: '535 5.7.3 Authentication unsuccessful',
      responseCode: 535,
      command: 'AUTH LOGIN',
    }),
    expect: { code: 'AUTH', permanent: false, enhancedStatus: '5.7.3' },
    hint: [/user name or password/, /%40/, /%2F/, /apikey/],
  },
  {
    name: 'AUTH 535 5.7.139 Microsoft 365 with SMTP AUTH disabled',
    err: nodemailerError(
      'Invalid login: 535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.',
      {
        code: 'EAUTH',
        response:
          '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.',
        responseCode: 535,
        command: 'AUTH LOGIN',
      },
    ),
    expect: { code: 'AUTH', permanent: false, enhancedStatus: '5.7.139' },
    hint: [/Microsoft 365/, /Authenticated SMTP/],
    notHint: [/apikey/],
  },
  {
    name: 'AUTH 538 5.7.11 encryption required',
    err: nodemailerError(
      'Invalid login: 538 5.7.11 Encryption required for requested authentication mechanism',
      {
        code: 'EAUTH',
        response: '538 5.7.11 Encryption required for requested authentication mechanism',
        responseCode: 538,
        command: 'AUTH PLAIN',
      },
    ),
    endpoint: { ...starttls, security: 'cleartext' },
    expect: { code: 'AUTH', permanent: false },
    hint: [/disable_starttls=true/],
  },
  {
    name: 'AUTH 454 4.7.0 temporary authentication failure',
    err: nodemailerError('Invalid login: 454 4.7.0 Temporary authentication failure', {
      code: 'EAUTH',
      response: '454 4.7.0 Temporary authentication failure',
      responseCode: 454,
      command: 'AUTH PLAIN',
    }),
    expect: { code: 'AUTH', permanent: false, enhancedStatus: '4.7.0' },
    hint: [/temporary/],
    notHint: [/apikey/],
  },
  // ---- RCPT: without an enhanced status, well-known wording
  {
    name: 'RCPT 550 no enhanced status, "no such user"',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 550 Error: no such user",
      {
        code: 'EENVELOPE',
        response: '550 Error: no such user',
        responseCode: 550,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: null },
    hint: [/does not exist/],
  },
  {
    name: 'RCPT 550 no enhanced status, relay not permitted',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 550 relay not permitted",
      {
        code: 'EENVELOPE',
        response: '550 relay not permitted',
        responseCode: 550,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true },
    hint: [/relay/, /user:password/],
  },
  {
    name: 'RCPT 450 4.2.0 greylisted (Postgrey wording)',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 450 4.2.0 <b@y.test>: Recipient address rejected: Greylisted",
      {
        code: 'EENVELOPE',
        response: '450 4.2.0 <b@y.test>: Recipient address rejected: Greylisted',
        responseCode: 450,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: false },
    hint: [/greylisting/],
  },
  {
    name: 'RCPT 452 4.5.3 too many recipients',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 452 4.5.3 Too many recipients",
      {
        code: 'EENVELOPE',
        response: '452 4.5.3 Too many recipients',
        responseCode: 452,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: false },
    hint: [/fewer recipients/, /temporary/],
  },
  {
    name: 'RCPT 452 without enhanced status (insufficient storage)',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 452 Insufficient system storage",
      {
        code: 'EENVELOPE',
        response: '452 Insufficient system storage',
        responseCode: 452,
        command: 'RCPT TO',
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: false },
    hint: [/storage/, /temporary/],
  },
  // ---- RCPT: an internationalized address to a server without SMTPUTF8. Nodemailer sends it
  // as it is (no SMTPUTF8 parameter, since the server did not announce the extension); the
  // refusal is the server's, worded as it likes.
  {
    name: 'RCPT 553 5.6.7 non-ASCII address (RFC 6531 status)',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 553 5.6.7 Non-ASCII addresses are not permitted for that recipient",
      {
        code: 'EENVELOPE',
        response: '553 5.6.7 Non-ASCII addresses are not permitted for that recipient',
        responseCode: 553,
        command: 'RCPT TO',
        rejected: ['jörg@example.com'],
        rejectedErrors: [
          {
            code: 'EENVELOPE',
            response: '553 5.6.7 Non-ASCII addresses are not permitted for that recipient',
            responseCode: 553,
            command: 'RCPT TO',
            recipient: 'jörg@example.com',
          },
        ],
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: '5.6.7' },
    message: /jörg@example\.com/,
    hint: [/jörg@example\.com/, /SMTPUTF8/, /internationalized addresses/, /ASCII address/],
  },
  {
    name: 'RCPT 501 5.1.3 non-ASCII address (a legacy server calls it bad syntax)',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 501 5.1.3 Bad recipient address syntax",
      {
        code: 'EENVELOPE',
        response: '501 5.1.3 Bad recipient address syntax',
        responseCode: 501,
        command: 'RCPT TO',
        rejectedErrors: [{ recipient: 'jörg@example.com', responseCode: 501 }],
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true, enhancedStatus: '5.1.3' },
    hint: [/SMTPUTF8/],
  },
  {
    name: 'RCPT 553 without status after SMTPUTF8 was used',
    err: nodemailerError(
      "Can't send mail - all recipients were rejected: 553 mailbox name not allowed",
      {
        code: 'EENVELOPE',
        response: '553 mailbox name not allowed',
        responseCode: 553,
        command: 'RCPT TO',
        rejectedErrors: [
          Object.assign(new Error('Internationalized mailbox name not allowed'), {
            recipient: 'δοκιμή@example.com',
          }),
        ],
      },
    ),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true },
    hint: [/SMTPUTF8/],
  },
  {
    name: 'RCPT 550 5.1.1 for a non-ASCII address is still an unknown mailbox',
    err: nodemailerError("Can't send mail - all recipients were rejected: 550 5.1.1 User unknown", {
      code: 'EENVELOPE',
      response: '550 5.1.1 User unknown',
      responseCode: 550,
      command: 'RCPT TO',
      rejectedErrors: [{ recipient: 'jörg@example.com', responseCode: 550 }],
    }),
    expect: { code: 'RECIPIENT_REJECTED', permanent: true },
    hint: [/does not exist/],
    notHint: [/SMTPUTF8/],
  },
  // ---- MAIL FROM
  {
    name: 'MAIL FROM 501 5.1.7 bad sender address syntax',
    err: nodemailerError('Mail command failed: 501 5.1.7 Bad sender address syntax', {
      code: 'EENVELOPE',
      response: '501 5.1.7 Bad sender address syntax',
      responseCode: 501,
      command: 'MAIL FROM',
    }),
    expect: { code: 'SENDER_REJECTED', permanent: true },
    hint: [/from address/],
  },
  // ---- DATA: the status tells a full mailbox from a message that is too large
  {
    name: 'DATA 552 5.2.2 mailbox full is not a size problem',
    err: nodemailerError('Message failed: 552 5.2.2 Mailbox full', {
      code: 'EMESSAGE',
      response: '552 5.2.2 Mailbox full',
      responseCode: 552,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true, enhancedStatus: '5.2.2' },
    hint: [/mailbox is full/],
    notHint: [/larger/],
  },
  {
    name: 'DATA 552 5.3.4 message too big',
    err: nodemailerError('Message failed: 552 5.3.4 Message size exceeds fixed limit', {
      code: 'EMESSAGE',
      response: '552 5.3.4 Message size exceeds fixed limit',
      responseCode: 552,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true },
    hint: [/larger than the server accepts/],
  },
  {
    name: 'DATA 554 5.7.1 relay access denied',
    err: nodemailerError('Message failed: 554 5.7.1 Relay access denied', {
      code: 'EMESSAGE',
      response: '554 5.7.1 Relay access denied',
      responseCode: 554,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: true },
    hint: [/relay/, /user:password/],
  },
  {
    name: 'DATA 554 5.2.252 SendAsDenied (Microsoft)',
    err: nodemailerError(
      'Message failed: 554 5.2.252 SendAsDenied; sender@x.test not allowed to send as other@x.test',
      {
        code: 'EMESSAGE',
        response:
          '554 5.2.252 SendAsDenied; sender@x.test not allowed to send as other@x.test; STOREDRV.Submission.Exception',
        responseCode: 554,
        command: 'DATA',
      },
    ),
    expect: { code: 'MESSAGE_REJECTED', permanent: true },
    hint: [/from address/, /Send As/],
  },
  {
    name: 'DATA 451 without enhanced status',
    err: nodemailerError('Message failed: 451 Requested action aborted: local error', {
      code: 'EMESSAGE',
      response: '451 Requested action aborted: local error',
      responseCode: 451,
      command: 'DATA',
    }),
    expect: { code: 'MESSAGE_REJECTED', permanent: false },
    hint: [/temporary/],
  },
  // ---- the port does not go with the scheme
  {
    name: 'smtp:// on 465: the server closes before any greeting',
    err: nodemailerError('Reached maximum number of retries after connection was closed', {
      code: 'ECONNECTION',
    }),
    endpoint: { ...starttls, port: 465 },
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/Port 465 expects TLS from the first byte/, /use smtps:\/\//],
  },
  {
    name: 'smtps:// on 587: no TLS answer, the connection drops',
    err: nodemailerError('Connection closed unexpectedly', {
      code: 'ETLS',
      command: 'CONN',
    }),
    endpoint: { ...implicitTls, port: 587 },
    expect: { code: 'TLS', permanent: false },
    hint: [/465 is smtps:\/\//, /587 is smtp:\/\//],
  },
  {
    name: 'connection refused on port 25',
    err: nodemailerError('connect ECONNREFUSED 203.0.113.5:25', {
      code: 'ESOCKET',
      originalCode: 'ECONNREFUSED',
      command: 'CONN',
    }),
    endpoint: { ...starttls, port: 25 },
    expect: { code: 'CONNECTION', permanent: false },
    hint: [/firewall/, /block outgoing port 25/],
  },
  // ---- not the server's doing
  {
    name: 'nodemailer configuration error',
    err: nodemailerError('Invalid configuration', { code: 'ECONFIG' }),
    expect: { code: 'CONFIG', permanent: false },
    hint: [/connection URI/],
  },
  {
    name: 'a file attachment is refused (disableFileAccess)',
    err: nodemailerError('File access rejected for /etc/passwd', { code: 'EFILEACCESS' }),
    expect: { code: 'CONFIG', permanent: false },
    hint: [/never reads files/],
  },
  {
    name: 'TLS error wrapped in cause',
    err: new Error('send failed', {
      cause: Object.assign(new Error('self-signed certificate'), {
        code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      }),
    }),
    endpoint: implicitTls,
    expect: { code: 'TLS', permanent: false },
  },
  {
    name: 'raw Node refusal without nodemailer wrapping',
    err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), { code: 'ECONNREFUSED' }),
    expect: { code: 'CONNECTION' },
  },
  {
    name: 'invalid configured sender',
    err: nodemailerError('Invalid sender "not an address"', { code: 'EENVELOPE', command: 'API' }),
    expect: { code: 'CONFIG', permanent: false, command: null },
  },
  {
    name: 'something that is not an error',
    err: 'boom',
    expect: {
      code: 'UNKNOWN',
      message: 'boom',
      permanent: false,
      responseCode: null,
      command: null,
    },
  },
];

describe('classifySmtpError', () => {
  for (const row of rows) {
    test(row.name, () => {
      const error = classifySmtpError(row.err, row.endpoint ?? starttls);
      for (const [key, value] of Object.entries(row.expect)) {
        assert.deepEqual(
          error[key as keyof DeliveryError],
          value,
          `${key} of ${JSON.stringify(error)}`,
        );
      }
      if (row.message) assert.match(error.message, row.message);
      for (const pattern of row.hint ?? []) assert.match(error.hint ?? '', pattern);
      for (const pattern of row.notHint ?? []) assert.doesNotMatch(error.hint ?? '', pattern);
      assert.ok(error.hint, 'every failure has a hint');
      // The worker appends when the next attempt is (or that there is none); a hint that
      // promised one could contradict it.
      assert.doesNotMatch(error.hint, /will be retried|will retry|retry at/i);
      assert.doesNotMatch(error.message, /[\r\n]/, 'message is one line');
      assert.ok(error.message.length > 0);
    });
  }

  test('the table covers every DeliveryErrorCode', () => {
    const covered = new Set(
      rows.map((row) => classifySmtpError(row.err, row.endpoint ?? starttls).code),
    );
    assert.deepEqual(
      DELIVERY_ERROR_CODES.filter((code) => !covered.has(code)),
      [],
    );
  });

  test('never repeats the password, even when the server echoes it', () => {
    const encoded = encodeURIComponent(PASSWORD);
    const plainToken = Buffer.from(`\u0000${starttls.username}\u0000${PASSWORD}`).toString(
      'base64',
    );
    const err = nodemailerError(
      `Invalid login: 535 bad password ${PASSWORD} (${encoded}, ${plainToken})`,
      {
        code: 'EAUTH',
        response: `535 5.7.8 bad password ${PASSWORD} (${encoded}, ${plainToken})`,
        responseCode: 535,
        command: 'AUTH PLAIN',
      },
    );
    const text = JSON.stringify(classifySmtpError(err, starttls));
    for (const secret of [PASSWORD, encoded, plainToken]) assert.ok(!text.includes(secret), text);
    assert.match(text, /\*\*\*/);
  });
});

describe('parseEnhancedStatus', () => {
  const cases: [string, string | null][] = [
    ['550 5.1.1 <x@y>: user unknown', '5.1.1'],
    ['550-5.1.1 The email account does not exist.\n550 5.1.1 https://support.google.com', '5.1.1'],
    ['451 4.7.1 Greylisted', '4.7.1'],
    ['550 5.1.10 RESOLVER.ADR.RecipientNotFound', '5.1.10'],
    ['250 2.0.0 Ok: queued as 4XyZ', '2.0.0'],
    ['550 Error: no such user', null],
    ['552 Error: message exceeds fixed maximum message size 100', null],
    ['550 5.1.1x not a status', null],
    ['500 Error: command not recognized', null],
  ];
  for (const [reply, expected] of cases) {
    test(JSON.stringify(reply), () => assert.equal(parseEnhancedStatus(reply), expected));
  }
});

describe('what a broken session means for the message depends on where it broke', () => {
  // The shapes nodemailer gives for a connection the server closed, and for an idle timeout.
  const closed = () =>
    nodemailerError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' });
  const stalled = () => nodemailerError('Timeout', { code: 'ETIMEDOUT', command: 'CONN' });
  const plain: SmtpEndpoint = {
    ...starttls,
    security: 'cleartext',
    username: null,
    password: null,
  };

  test('closed during the transaction: nothing sent; no port or scheme advice', () => {
    const error = classifySmtpError(closed(), plain, 'transaction');
    assert.equal(error.code, 'CONNECTION');
    assert.equal(error.command, null);
    assert.match(error.hint!, /before the message was sent: nothing was delivered/);
    assert.doesNotMatch(error.hint!, /smtps|465|port/);
  });

  test('closed after the message was sent: it may have arrived', () => {
    const error = classifySmtpError(closed(), plain, 'message');
    assert.match(error.hint!, /may have accepted it/);
  });

  test('closed while setting up: the port and scheme advice stays', () => {
    const error = classifySmtpError(closed(), plain, 'setup');
    assert.match(error.hint!, /465 is smtps/);
  });

  test('a stall says whether the message can have arrived', () => {
    assert.match(
      classifySmtpError(stalled(), plain, 'message').hint!,
      /after the message was sent.*may have accepted it/,
    );
    assert.match(classifySmtpError(stalled(), plain, 'transaction').hint!, /nothing was delivered/);
    for (const phase of ['setup', null] as const) {
      const hint = classifySmtpError(stalled(), plain, phase).hint!;
      assert.match(hint, /before any message was sent/);
      assert.doesNotMatch(hint, /deliver it twice/);
    }
  });
});
