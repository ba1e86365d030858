"""Corpora for the fake Heymarket data: names, numbers, and message texts.

Kept apart from the generator so the generator stays readable. Texts may hold
``{first}``, ``{agent}``, ``{order}``, ``{ticket}``, ``{amount}``, ``{day}`` and
``{url}`` placeholders, filled per thread with ``str.format_map``; no other
braces may appear in them.
"""

from __future__ import annotations

# Contact names: (language tag, full name). The tag picks the language of some
# inbound texts so a Japanese-named contact sometimes writes Japanese.
CONTACT_NAMES: tuple[tuple[str, str], ...] = (
    ("en", "Olivia Bennett"), ("en", "Liam O'Connor"), ("en", "Ava Thompson"),
    ("en", "Noah Patel"), ("en", "Emma Richardson"), ("en", "Ethan Brooks-Whitaker"),
    ("en", "Harper Nguyen"), ("en", "Mason Kowalski"), ("en", "Chloe Adeyemi"),
    ("en", "Benjamin Hart"), ("en", "Zoe Castellanos"), ("en", "Caleb Fitzgerald"),
    ("en", "Grace Mwangi"), ("en", "Jack Sullivan"), ("en", "Lily Abernathy"),
    ("en", "Owen McAllister"), ("en", "Hannah Goldberg"), ("en", "Dylan Reyes"),
    ("en", "Sophie Turner-Hale"), ("en", "Isaac Washington"), ("en", "Ruby Chen"),
    ("en", "Samuel Okafor"), ("en", "Aaliyah Jackson"), ("en", "Wyatt Dawson"),
    ("en", "Nora Lindgren"), ("en", "Elijah Baptiste"), ("en", "Maya Ramaswamy"),
    ("en", "Theo Papadakis"), ("en", "Ivy Kealoha"), ("en", "Declan Byrne"),
    ("en", "Siobhán Ní Bhriain"), ("en", "Chiamaka Eze"), ("en", "Kwame Mensah"),
    ("en", "Tariq Haddad"), ("en", "Priyanka Deshmukh"), ("en", "Jae-won Park"),
    ("en", "Nguyễn Thị Lan"), ("en", "Trần Minh Khoa"), ("en", "Łukasz Wójcik"),
    ("en", "Zofia Dąbrowska"), ("en", "Ayşe Yılmaz"), ("en", "Mehmet Öztürk"),
    ("en", "Björn Åkesson"), ("en", "Søren Kierkegaard-Holm"), ("en", "Mārtiņš Ozols"),
    ("en", "Anaïs Lefèvre"), ("en", "François Dubois"), ("en", "Jürgen Müller"),
    ("en", "Zoë Delacroix"), ("en", "Oluwaseun Adebayo"), ("en", "Thandiwe Ndlovu"),
    ("en", "Keanu Kahananui"), ("en", "Aroha Te Rangi"), ("en", "Bui Van Hieu"),
    ("en", "Mariana da Silva"), ("en", "João Gonçalves"), ("en", "Ngozi Chukwu"),
    ("en", "Rafael Domínguez"), ("es", "María José Hernández"), ("es", "Sofía Ramírez"),
    ("es", "Alejandro Gutiérrez"), ("es", "Lucía Fernández"), ("es", "Diego Martínez"),
    ("es", "Camila Torres"), ("es", "Javier Ortega"), ("es", "Valentina Rojas"),
    ("ja", "山田 花子"), ("ja", "佐藤 健"), ("ja", "鈴木 さくら"), ("ja", "Haruto Tanaka"),
    ("ru", "Анна Иванова"), ("ru", "Дмитрий Смирнов"), ("ru", "Ольга Кузнецова"),
    ("ar", "فاطمة الزهراء"), ("ar", "محمد العلي"), ("ar", "ليلى حداد"),
    ("hi", "प्रिया शर्मा"), ("hi", "राहुल वर्मा"), ("hi", "अनन्या गुप्ता"),
    ("zh", "王伟"), ("zh", "李娜"), ("zh", "陈晓明"), ("zh", "Zhang Wei"),
    ("el", "Νίκος Παπαδόπουλος"), ("el", "Ελένη Γεωργίου"),
    ("he", "נועה כהן"), ("ko", "김민지"), ("th", "สมชาย ใจดี"),
    ("en", "Dr. Evelyn Marsh"), ("en", "Harbor Street Café"), ("en", "Pinecrest HOA - Linda"),
    ("en", "Acme Plumbing (Dave)"), ("en", "Bright Smile Dental"), ("en", "Coach Ramirez"),
    ("en", "Tomasz from Riverside Gym"), ("en", "Mom's cell"),
    ("en", "Bartholomew Alexander Featherstonehaugh-Worthington III"),
)

# Area codes and prefixes for realistic-looking numbers (E.164 without '+').
US_AREA_CODES: tuple[str, ...] = (
    "212", "213", "303", "305", "312", "404", "415", "503", "512", "602",
    "617", "646", "702", "713", "718", "720", "773", "808", "917", "949",
)
# Ofcom's drama range, ACMA's fictional range, and plain-looking others.
OTHER_NUMBER_PREFIXES: tuple[tuple[str, int], ...] = (
    ("447700900", 3), ("447700900", 3), ("61491570", 3), ("4915123", 6),
    ("919820", 6), ("8190", 8), ("525512", 6), ("33612", 6),
)

# Per inbox kind: what customers write, what agents answer, and private notes.
INBOUND: dict[str, tuple[str, ...]] = {
    "support": (
        "Hi, my order {order} still hasn't arrived. Tracking hasn't moved since {day}.",
        "The zipper on the jacket I bought broke after two weeks 😞",
        "Can I exchange the boots for a size up? They pinch at the toes.",
        "Hello? Anyone there?",
        "I got the wrong color. Ordered forest green, got navy.",
        "Is the store on Market St open on Sunday?",
        "My tent arrived with one pole missing. What do I do?",
        "Thanks so much, that fixed it! 🙌",
        "ok",
        "👍",
        "Still waiting on the return label...",
        "Do you ship to Canada? 🇨🇦",
        "Where do I find the warranty info?",
        "The app keeps saying my promo code is invalid",
        "Can you resend the tracking link? I deleted the email by accident",
        "Package says delivered but it's not here. Neighbors don't have it either.",
        "Hi!\nQuick question about my return:\n1. Do I need the original box?\n2. Can I drop it at a store?\n3. How long is the refund?",
        "I want to be very clear about what happened because this is the third time I'm explaining it. I ordered "
        "the 3-season tent on {day}, it arrived with a torn rainfly, I sent photos, was told a replacement would "
        "ship in 3-5 days, and two weeks later nothing has arrived and nobody has replied to my emails. I've been "
        "a customer for years and I'd like this sorted before my trip next weekend.",
        "Can I change the shipping address? I'm moving next week",
        "Ticket {ticket} — any update?",
        "Sorry, wrong number",
        "STOP",
        "Great, see you then",
        "lol yes that's me",
        "How do I wash the down jacket without ruining it?",
        "Just checking in on this again 🙏",
    ),
    "sales": (
        "Hi, do you do group discounts for a scout troop of 24?",
        "Is the Alpine 45L pack back in stock?",
        "What's the difference between the Trailrunner and the Trailrunner Pro?",
        "Can I get a quote for 40 embroidered fleeces for our company retreat?",
        "Interested! Send me the details 🙂",
        "Do you price match REI?",
        "We'd like to set up a wholesale account for our shop in Boulder.",
        "What sizes does the women's rain shell come in?",
        "Is the Black Friday sale also online?",
        "Yes please, put me down for two",
        "Not interested, thanks",
        "Can you hold one in medium until Saturday?",
        "How long is the lead time on custom logo orders?",
        "Our budget is around {amount}. What can you do for us?",
        "Sounds good. Who do I send the PO to?",
        "Do you have anything in a wide fit?",
        "The link you sent doesn't open on my phone",
        "Perfect 👌",
    ),
    "billing": (
        "I was charged twice for order {order}.",
        "Can I get an invoice with our company name on it?",
        "My card was declined but the money left my account?",
        "When will my refund show up? It's been 10 days.",
        "Can I update the card on file?",
        "Why is there a {amount} charge on my statement?",
        "Do you accept purchase orders for net-30?",
        "I need a receipt for my expense report",
        "Got it, thank you!",
        "The refund amount is wrong. I paid {amount}, you refunded less.",
        "Please cancel my subscription box.",
        "Is sales tax included in that price?",
        "Hi, account #{ticket}. I'd like to dispute a charge.",
    ),
    "field": (
        "Crew is on site. Gate code doesn't work.",
        "Running 20 min late, traffic on 101",
        "Delivery done, signed by front desk",
        "Customer not home, left at side door per instructions",
        "Truck 4 has a flat. Need a backup for the afternoon route.",
        "Pallet count is 14 not 16, two missing from the manifest",
        "Arrived. Where do you want the display racks?",
        "📍 Pinned location: loading dock B",
        "Done for today. Will finish install tomorrow 8am",
        "Can someone call the customer? Nobody answering the buzzer",
        "Photos of the damaged boxes attached",
        "ETA 15 minutes",
    ),
}

OUTBOUND: dict[str, tuple[str, ...]] = {
    "support": (
        "Hi {first}, this is {agent} from Northwind Outfitters. Sorry for the wait! Let me look into order {order}.",
        "I've sent a prepaid return label to your email. Drop it at any UPS location.",
        "Good news: your replacement shipped today. Tracking: {url}",
        "Thanks for your patience! I've issued a full refund; it can take 5–7 business days to appear.",
        "Could you send a photo of the damage? It helps us file the claim with the carrier.",
        "Our Market St store is open 10am–6pm on Sundays.",
        "Yes, exchanges are free within 60 days. Want me to start one for a size up?",
        "I've escalated this to our warehouse team and will update you by tomorrow noon.",
        "Happy to help! Anything else I can do for you today?",
        "You're all set ✅",
        "Here's our care guide for down jackets: {url}",
        "Apologies for the mix-up! The correct color is on its way, and keep the navy one on us.",
        "Hi {first}! Just following up: did the replacement arrive OK?",
        "Ticket {ticket} is now resolved. Reply here any time if something comes up.",
    ),
    "sales": (
        "Hi {first}! {agent} here from Northwind Sales. We'd love to help outfit your group.",
        "For 20+ units we offer 15% off, and 20% for 50+.",
        "The Alpine 45L is back in stock in all three colors: {url}",
        "The Pro has a carbon plate and a more aggressive lug. Great for technical trails.",
        "Attached is the quote for 40 embroidered fleeces. Valid for 30 days.",
        "Yes, we price match any authorized retailer. Just send me the link.",
        "Lead time on custom logo orders is about 3 weeks from art approval.",
        "I've put a medium on hold for you under {first} until Saturday 6pm.",
        "🎉 Early access: our winter sale starts tomorrow. 25% off shells and insulation. Reply STOP to opt out.",
        "Great talking with you! I'll send the wholesale application today.",
    ),
    "billing": (
        "Hi {first}, I see the duplicate charge and have reversed it. You'll see the credit in 3–5 days.",
        "Here is your invoice: {url}",
        "Your refund of {amount} was processed on {day}.",
        "For security, please update your card through the link here rather than by text: {url}",
        "Yes, we accept POs on net-30 for approved business accounts.",
        "Your subscription box has been cancelled. No further charges.",
        "That {amount} charge is the pre-authorization; it drops off within 48 hours.",
        "Receipt sent to the email on file 📧",
    ),
    "field": (
        "Gate code is 4471#. Sorry about that!",
        "Backup truck is on the way, ETA 40 min.",
        "Thanks! Please upload the signed POD when you can.",
        "Customer asked for racks along the back wall, next to the fitting rooms.",
        "Calling them now.",
        "Got the photos, filing the damage claim.",
        "👍 thanks",
    ),
}

NOTES: tuple[str, ...] = (
    "Customer is a VIP (member since 2016). Waive shipping.",
    "Called them, no answer. Left voicemail.",
    "Warehouse confirmed the replacement shipped.",
    "@Priya can you take this one? I'm out tomorrow.",
    "Possible fraud: billing and shipping addresses differ by 3 states. Holding order.",
    "Refund approved by Dana.",
    "Duplicate of ticket {ticket}.",
    "Don't promise a date, carrier is backed up.",
    "Customer prefers texts over calls.",
    "Escalated to carrier claims team.",
    "Number looks like a landline; texts failed twice.",
)

# Inbound texts in the contact's own language (some right-to-left).
FOREIGN_INBOUND: dict[str, tuple[str, ...]] = {
    "es": ("Hola, ¿mi pedido ya salió? Gracias 🙏", "¿Tienen la chaqueta en talla M?", "Perfecto, muchas gracias."),
    "ja": ("注文した商品がまだ届いていません。確認していただけますか？", "ありがとうございます！", "サイズ交換は可能ですか？"),
    "ru": ("Здравствуйте! Когда придёт мой заказ?", "Спасибо большое 🙂", "Можно вернуть товар без чека?"),
    "ar": ("مرحبا، متى سيصل طلبي؟", "شكرا جزيلا لمساعدتكم", "هل يمكنني تغيير العنوان؟"),
    "hi": ("नमस्ते, मेरा ऑर्डर कब तक आएगा?", "धन्यवाद! 🙏", "क्या मैं साइज़ बदल सकता हूँ?"),
    "zh": ("你好，我的订单什么时候发货？", "谢谢！", "可以开发票吗？"),
    "el": ("Γεια σας, πότε θα έρθει η παραγγελία μου;", "Ευχαριστώ πολύ!"),
    "he": ("שלום, מתי ההזמנה שלי תגיע?", "תודה רבה!"),
    "ko": ("안녕하세요, 주문한 물건이 아직 안 왔어요.", "감사합니다!"),
    "th": ("สวัสดีครับ สินค้าจะมาถึงเมื่อไหร่ครับ", "ขอบคุณครับ"),
}

MEDIA_CAPTIONS: tuple[str, ...] = (
    "", "", "Here's the damage", "This is what arrived", "📷", "Receipt attached", "See photo",
)

DAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the 3rd", "the 14th", "Oct 28")
AMOUNTS: tuple[str, ...] = ("$49.99", "$128.40", "$312.00", "$1,250", "$2,480.75", "€89.00", "£64.50")
