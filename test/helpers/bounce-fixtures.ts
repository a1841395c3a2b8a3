// Reports in the shapes real MTAs send, written for the tests (CRLF line ends, as on the wire).
// Each takes what it quotes: the failed recipient, our Message-ID, our VERP address and ENVID.

export interface FixtureInput {
  /** The address that failed (the message's recipient). */
  recipient: string;
  /** The Message-ID of the message we sent, "<…@…>". */
  messageId: string;
  /** Where the report is sent: our VERP address (or any address at BOUNCE_DOMAIN). */
  to: string;
  /** Our ENVID, for DSNs that carry it. */
  envid?: string;
  /** The report's own Message-ID (so one fixture can be sent twice as the same report). */
  reportId?: string;
}

const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');
const id = (input: FixtureInput, fallback: string) =>
  input.reportId ?? `<${fallback}.${Date.now()}.${Math.random()}@mta.test>`;

export function postfixBounce(input: FixtureInput): string {
  return crlf(`Return-Path: <>
From: MAILER-DAEMON@mx.sender.test (Mail Delivery System)
To: ${input.to}
Subject: Undelivered Mail Returned to Sender
Message-ID: ${id(input, 'postfix')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.test.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<${input.recipient}>: host mx.example.com[192.0.2.10] said: 550 5.1.1
    <${input.recipient}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.test
X-Postfix-Queue-ID: 4XyZ1
X-Postfix-Sender: rfc822; ${input.to}
${input.envid ? `Original-Envelope-Id: ${input.envid}\n` : ''}Arrival-Date: Thu,  3 Dec 2026 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; ${input.recipient}
Original-Recipient: rfc822;${input.recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.com
Diagnostic-Code: smtp; 550 5.1.1 <${input.recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <${input.to}>
From: App <app@sender.test>
To: ${input.recipient}
Subject: Welcome
Message-ID: ${input.messageId}

--B1--
`);
}

export function postfixDelay(input: FixtureInput): string {
  return crlf(`Return-Path: <>
From: MAILER-DAEMON@mx.sender.test (Mail Delivery System)
To: ${input.to}
Subject: Delayed Mail (still being retried)
Message-ID: ${id(input, 'delay')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="D1"

--D1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.test.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

--D1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.test

Final-Recipient: rfc822; ${input.recipient}
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.example.com[192.0.2.10]:25: Connection
    timed out
Will-Retry-Until: Thu, 8 Dec 2026 10:00:00 +0000

--D1
Content-Type: text/rfc822-headers

Message-ID: ${input.messageId}
Subject: Welcome

--D1--
`);
}

export function eximBounce(input: FixtureInput): string {
  return crlf(`Return-path: <>
From: Mail Delivery System <Mailer-Daemon@exim.sender.test>
To: ${input.to}
Subject: Mail delivery failed: returning message to sender
Message-Id: ${id(input, 'exim')}
X-Failed-Recipients: ${input.recipient}
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  ${input.recipient}
    host mx.example.com [192.0.2.10]
    SMTP error from remote mail server after RCPT TO:<${input.recipient}>:
    550 5.2.1 The email account that you tried to reach is disabled.

------ This is a copy of the message, including all the headers. ------

Return-path: <${input.to}>
Message-ID: ${input.messageId}
Subject: Welcome

Hello.
`);
}

export function exchangeBounce(input: FixtureInput): string {
  return crlf(`From: postmaster@outlook.test
To: ${input.to}
Subject: Undeliverable: Welcome
Message-ID: ${id(input, 'exchange')}
X-Failed-Recipients: ${input.recipient}
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Delivery has failed to these recipients or groups:

${input.recipient}
The e-mail address you entered couldn't be found.

Diagnostic information for administrators:

Generating server: EX01.outlook.test

${input.recipient}
Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'

Original message headers:

Message-ID: ${input.messageId}
Subject: Welcome
`);
}

export function qmailBounce(input: FixtureInput): string {
  return crlf(`From: MAILER-DAEMON@qmail.sender.test
To: ${input.to}
Subject: failure notice
Message-ID: ${id(input, 'qmail')}

Hi. This is the qmail-send program at qmail.sender.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<${input.recipient}>:
192.0.2.10 does not like recipient.
Remote host said: 550 5.1.1 No such user here
Giving up on 192.0.2.10.

--- Below this line is a copy of the message.

Return-Path: <${input.to}>
Message-ID: ${input.messageId}
Subject: Welcome

Hello.
`);
}

export function gmailBounce(input: FixtureInput): string {
  return crlf(`From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: ${input.to}
Subject: Delivery Status Notification (Failure)
Message-ID: ${id(input, 'gmail')}
MIME-Version: 1.0
Content-Type: multipart/report; boundary="G1"; report-type=delivery-status

--G1
Content-Type: multipart/related; boundary="G2"

--G2
Content-Type: text/plain; charset="UTF-8"

Your message wasn't delivered to ${input.recipient} because the domain's
DMARC policy rejects unauthenticated mail.

--G2--

--G1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Received-From-MTA: dns; app.sender.test
Arrival-Date: Thu, 03 Dec 2026 10:00:00 -0800 (PST)
X-Original-Message-ID: ${input.messageId}

Final-Recipient: rfc822; ${input.recipient}
Action: failed
Status: 5.7.26
Remote-MTA: dns; gmail-smtp-in.l.google.com. (192.0.2.20, the server for the
 domain gmail.com.)
Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from sender.test is not
 accepted due to domain's DMARC policy.
Last-Attempt-Date: Thu, 03 Dec 2026 10:00:01 -0800 (PST)

--G1
Content-Type: message/rfc822

Message-ID: ${input.messageId}
From: App <app@sender.test>
To: ${input.recipient}
Subject: Welcome

Hello.

--G1--
`);
}

export function textDelayWarning(input: FixtureInput): string {
  return crlf(`From: postmaster@relay.sender.test
To: ${input.to}
Subject: Warning: message delayed
Message-ID: ${id(input, 'warning')}

This is an automatically generated message.

Your message to <${input.recipient}> has not yet been delivered.
The remote server answered: 451 4.7.1 Greylisted, try again later.
We will keep trying for 5 days; you need not resend it.

Message-ID: ${input.messageId}
`);
}

export function arfComplaint(input: FixtureInput): string {
  return crlf(`From: feedback@fbl.mailbox.test
To: ${input.to}
Subject: Abuse report
Message-ID: ${id(input, 'arf')}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F1"

--F1
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.30.

--F1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <${input.to}>
Original-Rcpt-To: <${input.recipient}>
Reporting-MTA: dns; fbl.mailbox.test
Source-IP: 192.0.2.30

--F1
Content-Type: message/rfc822

From: App <app@sender.test>
To: ${input.recipient}
Subject: Welcome
Message-ID: ${input.messageId}

Hello.

--F1--
`);
}
