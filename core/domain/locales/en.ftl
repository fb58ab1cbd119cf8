# Texts to citizens, English.

help =
    How the digital citizens' office hours work:
    • Just write your question as a message. You will receive a reference number (e.g. A-1042).
    • /status – shows where your questions stand.
    • /withdraw – withdraws your open question (or /withdraw A-1042).
    • /help – shows this help.
    • /mydata – shows all data stored about you; /erase – deletes it.
    • /subscribe – announcements of office hours and reminders (/unsubscribe ends them).
    Outside office hours, the citizens' office answers your question.

ack-live =
    Thank you! Your question has been received under the reference { $reference }.
    The office hours "{ $session }" are running now. You are number { $position } in the queue.

ack-presubmit =
    Thank you! Your question has been received under the reference { $reference }.
    The office hours "{ $session }" begin on { $start }. Your question will be taken up then (currently number { $position }).

ack-office =
    Thank you! Your question has been received under the reference { $reference }.
    There are no office hours right now. We have forwarded your question to the citizens' office; you will receive an answer by { $due } at the latest.

ack-cap =
    Thank you! Your question has been received under the reference { $reference }.
    The office hours "{ $session }" are fully booked. We have forwarded your question to the citizens' office; you will receive an answer by { $due } at the latest.

ack-extended = Your message has been added to your question { $reference }.

ack-follow-up =
    Your follow-up on question { $reference } has been received and forwarded to the citizens' office. You will receive an answer by { $due } at the latest.

answer =
    Answer to your question { $reference }:

    { $text }

    You can reply to this message if you have a follow-up question.

rejected =
    Unfortunately, your question { $reference } cannot be processed.
    Reason: { $reason }

moved-session-closed =
    The office hours "{ $session }" have ended before your question { $reference } could be answered. We have forwarded it to the citizens' office; you will receive an answer by { $due } at the latest.

moved-session-cancelled =
    The office hours "{ $session }" have been cancelled. We have forwarded your question { $reference } to the citizens' office; you will receive an answer by { $due } at the latest.

status-none = You have not asked any questions yet. Just write us your question.
status-list =
    Your questions:
    { $list }

status-open-live = { $reference }: open – office hours "{ $session }", number { $position } in the queue
status-open-office = { $reference }: open – with the citizens' office, answer by { $due }
status-answered = { $reference }: answered
status-rejected = { $reference }: rejected
status-withdrawn = { $reference }: withdrawn

withdrawn = Your question { $reference } has been withdrawn.
withdraw-none = You have no open question to withdraw.
withdraw-unknown = We cannot find an open question of yours with the reference { $reference }.

too-long = Your message is too long. Please keep it shorter (at most { $max } characters) or split it into several messages.

greeting-live = Welcome! The office hours "{ $session }" with { $host } are running now (until { $end }). Just write your question as a message.
greeting-next = Welcome! The next office hours "{ $session }" with { $host } begin on { $start }. You can write to us at any time, though – outside office hours the citizens' office answers.
greeting-none = Welcome! No office hours are scheduled at the moment. You can still write to us at any time – the citizens' office will answer.

error-empty = Please enter a message.
error-unavailable = Your message could not be saved just now. Please try again in a moment.

button-status = Check status
button-withdraw = Withdraw
button-help = Help

# Channel notices (adapters).
error-bad-request = This message was not understood. Please reload the page.
group-refusal-telegram = These office hours take place in private chats only: please write to this bot directly. We do not take questions in groups or channels, so that your questions stay confidential.
group-refusal-matrix = The citizen office hours answer questions in direct chats with one person only. Please start a direct chat with this account; the bot is leaving this room now.
text-only = Please write your question as text; we cannot accept images or files here.
undecryptable = Your last message could not be decrypted. Please send it again.
privacy-matrix-encrypted = This chat is end-to-end encrypted: only you and the office hours can read the messages, your homeserver cannot.
privacy-matrix-plain = Privacy note: this chat is not end-to-end encrypted; the operators of the homeservers involved can read the messages. For an encrypted chat, turn on encryption in your Matrix app or start a new, encrypted direct chat.
greeting-matrix =
    { $session }

    { $privacy } Your questions are stored under a pseudonym, not under your Matrix ID. Commands (with ! or /): !help, !status, !withdraw, !mydata, !erase, !subscribe, !unsubscribe.
## privacy (consent, export, erasure)
privacy-heading = Privacy notice
privacy-notice =
    Before we store your question we need your consent. We store your messages, the administration's answers and the times under a pseudonym – { $channel ->
        [web] not your name and not this browser's key –
       *[other] not your name and not your messenger id in plain text –
    } in order to answer your question. Only the responsible staff of the city administration can read them. Answered requests are deleted after { $answered } days, rejected ones after { $rejected }, withdrawn ones after { $withdrawn } days. { $channel ->
        [web] Under "Quick actions" you can show, download or delete all stored data at any time.
       *[other] Send /mydata at any time to get all stored data, /erase to delete it.
    }
privacy-channel-telegram = Telegram chats are not end-to-end encrypted: Telegram can read the messages.
privacy-channel-matrix-encrypted = This Matrix chat is end-to-end encrypted.
privacy-channel-matrix-plain = This Matrix chat is not end-to-end encrypted: the operators of the homeservers involved can read the messages.
privacy-channel-threema = This Threema chat is end-to-end encrypted: only you and the office hours can read the messages. The operator of the Threema Gateway (Threema GmbH, Switzerland) sees metadata only – who writes to whom and when – not the content.
privacy-channel-web = The web chat is encrypted in transit (HTTPS), but not end to end.
privacy-ask = Do you agree? Reply /agree or /decline – or simply "yes" or "no".
privacy-held = Your message is not stored yet. We store and handle it once you have agreed to the privacy notice (reply "yes" or /agree); if you decline, it is discarded.
privacy-agreed = Thank you for your consent. Please write your question now.
privacy-already-agreed = You have already agreed. Just write your question as a message.
privacy-declined = You did not agree. We have stored nothing of your message. If you change your mind, just write to us again.
privacy-decline-after-consent = You have already agreed. Send /erase to have all your data deleted.
button-agree = I agree
button-decline = Decline
mydata-head = Your data stored with us – channel: { $channel ->
        [web] web chat
        [telegram] Telegram
        [matrix] Matrix
       *[other] { $channel }
    }, first contact: { $first }, consent: { $consent }.
mydata-contact =
    Reply address: { $address }
    Language: { $lang ->
        [en] English
       *[de] German
    }
    Announcements of office hours: { $subscribed ->
        [yes] subscribed
       *[no] not subscribed
    }
mydata-none = No requests are stored for you.
mydata-question = Request { $reference } of { $date } ({ $status ->
        [open] open
        [answered] answered
        [rejected] rejected
        [withdrawn] withdrawn
       *[other] { $status }
    }):
mydata-from-citizen = You
mydata-from-answer = Answer
mydata-from-system = Notice
mydata-foot = Send /erase to have all this data deleted.
erase-confirm = Do you really want to delete all your data with us (your requests, the answers and your pseudonym)? Open requests will then no longer be handled. Confirm with /erase confirm.
button-erase-confirm = Yes, delete everything
button-erase-cancel = Cancel
erased = All your data has been deleted. This message is not kept either.

## web hardening
# Sent once when a citizen exceeds the per-citizen message limit; $seconds until messages are taken again.
flood-limit = You have sent a lot of messages in a short time. So that every request can be dealt with, we are not taking further messages from you for a short while. Please write again in { $seconds } seconds; anything you send until then is not stored.

## Office hours as events (subscriptions, announcements, reminders, merged questions)
subscribed = You will now receive announcements of office hours: new dates, changes, cancellations and reminders. You can unsubscribe at any time with /unsubscribe.
unsubscribed = You will no longer receive announcements of office hours. You can subscribe again with /subscribe.
button-subscribe = Subscribe to announcements
button-unsubscribe = Unsubscribe from announcements
announce-new = New office hour: "{ $session }" with { $host } on { $start } (until { $end }). You can simply write your question here then.
announce-series = New series of office hours: "{ $session }" with { $host }, { $count } dates, the first on { $start } (until { $end }).
announce-rescheduled = The office hour "{ $session }" has been moved. New date: { $start } (until { $end }).
announce-cancelled = The office hour "{ $session }" on { $start } has been cancelled.
reminder = Reminder: the office hour "{ $session }" with { $host } starts on { $start } (until { $end }). Simply write your question here then.
merged = Your question { $reference } has been grouped with an identical question. You will receive the answer here under your number { $reference }.

## Staff notifications by e-mail (never with the citizen's text or name)
mail-routed-subject = Question { $reference } routed to { $department }
mail-routed = Question { $reference } was routed to { $department }. Open it in the console: { $link }
mail-assigned-subject = Question { $reference } is assigned to you
mail-assigned = Question { $reference } was assigned to you. Open it in the console: { $link }
mail-draft-waiting-subject = Draft answer to { $reference } awaits approval
mail-draft-waiting = A draft answer to question { $reference } awaits your approval (four-eyes principle). Open it in the console: { $link }
mail-digest-subject = { $department }: { $count } overdue questions on { $date }
mail-digest = Overdue questions of { $department } on { $date } ({ $count }):
    
    { $list }
mail-footer = This message contains nothing a citizen wrote. You can switch notifications off in the console or ask an administrator.
