import nodemailer from 'nodemailer';

// How an e-mail leaves the hospital. Every notification is written to the outbox first
// (incident_notifications); an e-mail whose recipient is an address is then handed to SMTP
// when a server is configured. Letters, SMS and app messages stay in the outbox for the
// hospital's own services, which is where they are recorded as sent.

export interface OutgoingMail {
  /** The outbox row's id: the Message-ID's left part, so a resend is recognisable. */
  id: string;
  to: string;
  subject: string;
  body: string;
}

export interface MailSender {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

export interface SmtpSettings {
  /** smtp://host:port (STARTTLS when offered) or smtps://host:port. */
  url: string;
  from: string;
}

/** A real SMTP sender (nodemailer): the server's acceptance is what counts as sent. */
export function smtpSender(settings: SmtpSettings): MailSender {
  const transport = nodemailer.createTransport(settings.url);
  const domain = settings.from.split('@')[1] ?? 'localhost';
  return {
    async send(mail) {
      const info = await transport.sendMail({
        from: settings.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.body,
        messageId: `<${mail.id}@${domain}>`,
      });
      return { messageId: info.messageId };
    },
    close: () => transport.close(),
  };
}

/** An address SMTP can deliver to; anything else (a role name, `patient:<id>`) stays in the outbox. */
export function isMailAddress(recipient: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+$/.test(recipient);
}
