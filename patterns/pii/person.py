#!/usr/bin/env python3
"""Writes patterns/pii/person.toml (stdlib only): python3 patterns/pii/person.py

The person, address and date-of-birth rules share long sub-patterns (a Latin name, a Han
name with a surname list, month names in three languages, date formats); writing them
once here keeps the rules consistent. Edit this script, re-run it, and commit both.
"""
import os
LW = r"(?:[A-Z]['’])?[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:[\-'’]?[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+|[\-'’][a-zß-öø-ÿ]+)?"
CAPS = r"[A-ZÀ-ÖØ-Þ]{2,20}"
PART = r"(?:van|von|der|de|du|la|le|di|da|del|dos|zu|ten|bin|al)"
NAME_L = rf"(?:[A-Z]\.\ )?(?:{LW}|{CAPS})(?:\ (?:{PART}\ )?(?:{LW}|{CAPS}|[A-Z]\.)){{0,3}}"
NAME_L2 = rf"(?:{LW}|{CAPS})(?:\ [A-Z]\.)?(?:\ (?:{PART}\ )?(?:{LW}|{CAPS})){{1,3}}"
SUR = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
NAME_H = rf"(?:欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|令狐|司徒|夏侯|[{SUR}])[\x{{4e00}}-\x{{9fa5}}]{{1,2}}"
NAME = rf"(?:{NAME_L}|{NAME_H})"
MON = r"(?i:jan(?:uary|uar|vier)?\.?|feb(?:ruary|ruar)?\.?|f[ée]vrier|mar(?:ch|s)?\.?|m[äa]rz|maerz|apr(?:il)?\.?|avril|may|mai|juin?|june?|juni|jul(?:y|i)?\.?|juillet|aug(?:ust)?\.?|ao[ûu]t|sep(?:t|tember|tembre)?\.?|oct(?:ober|obre)?\.?|okt(?:ober)?\.?|nov(?:ember|embre)?\.?|dec(?:ember)?\.?|d[ée]cembre|dez(?:ember)?\.?)"
DATE = (r"(?:[12][0-9]{3}[\-/.][01]?[0-9][\-/.][0-3]?[0-9]"
        r"|[12][0-9]{3}\ ?年\ ?[01]?[0-9]\ ?月(?:\ ?[0-3]?[0-9]\ ?[日号])?"
        r"|[0-3]?[0-9][\-/.][0-3]?[0-9][\-/.](?:[12][0-9]{3}|[0-9]{2})"
        rf"|[0-3]?[0-9](?:st|nd|rd|th|er|\.)?\ {MON}\ [12][0-9]{{3}}"
        rf"|{MON}\ [0-3]?[0-9](?:st|nd|rd|th)?,?\ [12][0-9]{{3}})")

def lit(s):
    assert "'''" not in s
    return "'''" + s + "'''"

rules = []
def rule(id, entity, desc, pattern, keywords, examples, negs, validator=None, priority=20, extra="", keyword_at=None):
    r = f'[[rule]]\nid = "{id}"\nentity = "{entity}"\ndescription = "{desc}"\npattern = {lit(pattern)}\n'
    if validator: r += f'validator = "{validator}"\n'
    r += f'normalize = "lower"\npriority = {priority}\nopen_end = true\n'
    r += extra
    r += "keywords = [" + ", ".join(toml_str(k) for k in keywords) + "]\n"
    if keyword_at: r += f'keyword_at = "{keyword_at}"\n'
    r += "examples = [" + ", ".join(toml_str(e) for e in examples) + "]\n"
    r += "negative_examples = [" + ", ".join(toml_str(e) for e in negs) + "]\n"
    rules.append(r)

import json
def toml_str(s):
    return json.dumps(s, ensure_ascii=False)

SEP = r"[\ \t]*[:：=][\ \t]*"
NOT_ALNUM_BEFORE = r"(?:^|[^A-Za-z0-9_\-])"

person_labels_en = r"(?i:reporter|reported\ by|requester|requested\ by|submitted\ by|created\ by|assignee|assigned\ to|author|signed|guarantor|borrower|full\ name|customer\ name|client\ name|contact\ name|contact\ person|contact|name|customer|client|patient|employee|applicant|recipient|sender|passenger|account\ holder|card\ ?holder|beneficiary|attn\.?|attention|guest|tenant|driver)"
person_labels_de = r"(?i:auftraggeber(?:in)?|antragsteller(?:in)?|melder(?:in)?|bearbeiter(?:in)?|vorname|nachname|vor-\ und\ nachname|kunde|kundin|ansprechpartner(?:in)?|empfänger|absender|inhaber|kontoinhaber)"
person_labels_fr = r"(?i:demandeur|demandeuse|signataire|nom\ complet|nom|prénom|prenom|destinataire|expéditeur|titulaire|interlocuteur)"
person_labels_zh = r"(?:报修人|报案人|投诉人|下单人|购买人|经手人|签收人|提货人|借款人|担保人|报告人|提交人|处理人|对接人|姓名|联系人|收件人|收货人|寄件人|客户姓名|客户|持卡人|开户名|户名|乘客|患者|申请人|负责人|经办人|法人代表|法定代表人|业主|租客|顾客)"

rule("pii.person.label.1", "PERSON",
     "Person's name after a label: Name:, Customer:, Vorname:, Nom :, 姓名：, 联系人：",
     rf"(?x){NOT_ALNUM_BEFORE}(?:{person_labels_en}|{person_labels_de}|{person_labels_fr})(?:\ \(.{{1,12}}\))?{SEP}\"?(?P<value>{NAME})"
     # Holder labels are followed by the name without a colon as often as with one.
     + rf"|{NOT_ALNUM_BEFORE}(?i:kontoinhaber(?:in)?|account\ holder|card\ ?holder|titulaire\ du\ compte|titulaire)[\ \t]+(?P<value4>{NAME_L})"
     + rf"|{person_labels_zh}[\ \t]*(?:[:：=]|是|为)?[\ \t]*(?P<value2>{NAME})"
     # After an explicit name label and colon, any 2-4 Han characters that end there
     # (names with a surname missing from the list).
     + r"|(?:姓名|联系人|收件人|收货人|客户姓名|持卡人|开户名|户名|法定代表人|法人代表|寄件人)[\ \t]*[:：][\ \t]*(?P<value3>[\x{4e00}-\x{9fa5}]{2,4})(?:[^\x{4e00}-\x{9fa5}]|$)",
     # Every label starts with one of these (keyword_at = "start" below), hence the
     # compound and two-word labels ("vorname", "full name") next to "name".
     ["reporter", "reported by", "requester", "requested by", "submitted by", "created by", "assignee", "assigned to", "author", "signed", "guarantor", "borrower", "full name", "account holder", "cardholder", "card holder", "vorname", "nachname", "vor-", "kontoinhaber", "titulaire", "auftraggeber", "antragsteller", "melder", "bearbeiter", "demandeur", "demandeuse", "signataire", "报修人", "报案人", "投诉人", "下单人", "购买人", "经手人", "签收人", "提货人", "借款人", "担保人", "报告人", "提交人", "处理人", "对接人", "name", "customer", "client", "contact", "patient", "employee", "applicant", "recipient", "sender", "passenger", "beneficiary", "attn", "attention", "guest", "tenant", "driver", "kunde", "kundin", "ansprechpartner", "empfänger", "absender", "inhaber", "nom", "prénom", "prenom", "destinataire", "expéditeur", "interlocuteur", "姓名", "联系人", "收件人", "收货人", "寄件人", "客户", "持卡人", "开户名", "户名", "乘客", "患者", "申请人", "负责人", "经办人", "法人代表", "法定代表人", "业主", "租客", "顾客"],
     ["Name: Alice Johnson", "姓名：张伟", "姓名：佴晓东，", "Customer: Bob O'Neil, phone", "Vorname: Jürgen", "Nom : Dupont Marie", "联系人：王小明 13912345678"],
     ["Name: required", "File name: report.pdf", "username: jdoe", "姓名：请填写", "the customer said hi", "顾客：订单一直没发货", "编号\t姓名\t邮箱"],
     validator="person_name",
     extra='context = { deny = ["file name", "filename", "file_name", "host name", "hostname", "user name", "username", "user_name", "company name", "product name", "project name", "display name", "display_name", "domain name", "server name", "field name", "column name", "table name", "package name", "branch name", "model name", "device name", "network name", "event name", "variable name", "class name", "function name", "method name", "app name", "bucket name", "queue name", "topic name", "key name", "type name", "公司", "文件", "产品"], window = 14, deny_next = [":", "：", "address", "adresse", "complet", "name", "person", "info", "details", "number", "email", "e-mail", "phone", "id"] }\n',
     keyword_at="start")

rule("pii.person.intro.1", "PERSON",
     "Person's name in a self-introduction: my name is, je m'appelle, ich heiße, 我叫",
     rf"(?x)(?:(?i:my\ name\ is|my\ name's|name's|je\ m'appelle|je\ m’appelle|ich\ heiße|ich\ heisse|mein\ name\ ist|call\ me)[\ \t]+(?P<value>{NAME_L})"
     + rf"|(?i:i'm|i’m|i\ am|it's|it’s|je\ suis|moi\ c'est|c'est|ich\ bin|hier\ ist|this\ is)[\ \t]+(?:(?P<value2>{NAME_L2})|(?P<value3>{LW})(?:,|\ (?:from|here|speaking|von|vom|aus|de\ la|de\ l'|du|chez|with)(?-u:\b)))"
     + rf"|(?:我叫|我的名字是|我的名字叫|本人|鄙人|我姓名是|我是)[\ \t]*(?P<value4>{NAME_H}))",
     # Every phrase starts with one of these (keyword_at = "start").
     ["my name", "name's", "je m'appelle", "je m’appelle", "ich heiße", "ich heisse", "mein name", "call me", "i'm", "i’m", "i am", "it's", "it’s", "je suis", "moi c'est", "c'est", "ich bin", "hier ist", "this is", "我叫", "我的名字", "本人", "鄙人", "我姓名", "我是"],
     ["Hi, my name is Sarah Connor.", "我叫李娜，", "Bonjour, je m'appelle Camille Martin", "Hallo, ich heiße Lukas Weber", "Hi, I'm Tom from billing", "I am Maria Garcia"],
     ["I'm Sorry about that", "I am not sure", "我叫车", "I'm happy to help", "this is Python code", "我是学生", "my name is Name: x"],
     validator="person_name",
     extra='context = { deny_next = [":", "："] }\n',
     keyword_at="start")

closings = r"(?:(?i:thanks|thank\ you|many\ thanks|thanks\ again|best|best\ regards|kind\ regards|warm\ regards|regards|cheers|sincerely|yours\ sincerely|yours\ truly|all\ the\ best|mit\ freundlichen\ grüßen|mit\ freundlichen\ grüssen|freundliche\ grüße|viele\ grüße|beste\ grüße|liebe\ grüße|herzliche\ grüße|gruß|grüße|mfg|lg|vg|cordialement|bien\ cordialement|bien\ à\ vous|salutations|sincères\ salutations|meilleures\ salutations|amicalement|bonne\ journée|merci)|此致|敬礼|谢谢|祝好|顺祝商祺|顺颂商祺|祝商祺|此致敬礼)"
rule("pii.person.signature.1", "PERSON",
     "Signature: the name on the line after a closing (Best regards, Mit freundlichen Grüßen, Cordialement, 此致敬礼)",
     rf"(?x){closings}[\ \t]*[,，!.！。]?[\ \t]*\r?\n(?:[\ \t]*\r?\n)?[\ \t]*(?:-{{1,2}}\ ?)?(?P<value>{NAME})[\ \t]*(?:[,，|/(（<]|\r?\n|$)"
     + rf"|(?i:thanks|regards|cheers|best|cordialement|grüße|merci)[,，][\ \t]*(?P<value2>{NAME_L})[\ \t]*(?:\r?\n|$)",
     ["thank", "best,", "best\n", "best regards", "best wishes", "all the best", "regards", "cheers", "sincerely", "yours", "grüße", "grüsse", "gruß", "mfg", "cordialement", "à vous", "salutations", "amicalement", "journée", "merci", "此致", "敬礼", "谢谢", "祝好", "商祺"],
     ["Best regards,\nJohn Smith", "Mit freundlichen Grüßen\nAnna Schmidt", "Cordialement,\n\nMarie Dubois", "此致\n敬礼\n张伟", "Thanks, Kevin"],
     ["Best regards,\nThe Support Team", "Thanks,\nCustomer Service", "Thanks, I will try", "谢谢\n好的", "谢谢 \nCreated: 2025-03-03"],
     validator="person_name")

rule("pii.person.mail_header.1", "PERSON",
     "Display name of an e-mail address (From: Jane Doe <jane@…>) or in 'Name <email>'",
     rf"(?x)(?:^|[^A-Za-z0-9À-ÿ])\"?(?P<value>{NAME_L})\"?[\ \t]*<[A-Za-z0-9._%+\-]+@"
     + rf"|(?:(?i:from|to|cc|bcc|reply-to|von|an|de|à|a)|发件人|收件人|抄送)[\ \t]*[:：][\ \t]*\"?(?P<value2>{NAME_H})\"?[\ \t]*<",
     ["@"],
     ["From: Jane Doe <jane.doe@example.com>", "cc \"Max Mustermann\" <max@example.org>", "发件人: 张伟 <zhangwei@example.cn>", "write to Pierre Martin <p.martin@example.fr>"],
     ["From: <noreply@example.com>", "see <alice@example.com>", "To: Support Team <help@example.com>"],
     validator="person_name",
     # Both forms end at the `<` or the `@` of the address.
     keyword_at="end")

SAFE_SUR = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤"
titles = r"(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Herr|Frau|Monsieur|Madame|Mme|Mlle)"
rule("pii.person.greeting.1", "PERSON",
     "Name in a greeting or after a title: Dear Anna,, Hi John!, Sehr geehrter Herr Müller, Bonjour Madame Dupont, Mr. Smith, 张先生, 尊敬的李娜",
     rf"(?x)(?:^|[^A-Za-z])(?i:dear|hi|hello|hey|good\ morning|good\ afternoon|good\ evening|liebe|lieber|hallo|guten\ tag|sehr\ geehrter|sehr\ geehrte|bonjour|bonsoir|salut|cher|chère)[\ \t]+(?:{titles}\.?[\ \t]+)?(?P<value>{NAME_L})[\ \t]*(?:[,，!！\r\n]|$)"
     + rf"|(?-u:\b){titles}\.?\ (?P<value2>{NAME_L})"
     + rf"|(?:尊敬的|亲爱的)(?P<value3>{NAME_H})"
     + rf"|(?P<value4>[{SAFE_SUR}](?:先生|女士|小姐|老师|经理|总监|医生|律师|师傅))",
     # Every form starts with one of these, or one character before it (the boundary
     # before "dear", the surname before "先生"): keyword_at = "start".
     ["dear", "hi ", "hi\t", "hi,", "hello", "hey ", "hey\t", "good morning", "good afternoon", "good evening", "liebe", "hallo", "guten tag", "sehr geehrte", "bonjour", "bonsoir", "salut", "cher ", "cher\t", "chère", "mr.", "mr ", "mrs.", "mrs ", "ms ", "ms.", "mx.", "mx ", "miss.", "miss ", "dr.", "dr ", "prof.", "prof ", "herr.", "herr ", "frau.", "frau ", "monsieur", "madame", "mme", "mlle", "先生", "女士", "小姐", "老师", "经理", "总监", "医生", "律师", "师傅", "尊敬的", "亲爱的"],
     ["Dear Anna Schmidt,", "Hi John!", "Sehr geehrter Herr Müller,", "Bonjour Madame Dupont,", "I spoke to Mr. Thornbury yesterday", "张先生您好", "尊敬的李娜：", "Hello Priya,\nthanks"],
     ["Hi Team,", "Hello World!", "Dear Customer,", "Good morning Card: 4111", "Bonjour Tél : +33 1", "Hi all, the build is green", "我和先生一起去", "Dear Sir or Madam,"],
     validator="person_name",
     keyword_at="start")

# The rest of the question line holds no colon: "Client: Full name: Zoe" is an answer
# already, and the line after it is not.
rule("pii.person.dialogue_answer.1", "PERSON",
     "Name given as the answer to a question about it, on the next dialogue turn (请问怎么称呼？ / 用户：刘洋)",
     rf"(?x)(?:姓名|名字|称呼|叫什么|(?i:your\ name|full\ name|ihr\ name|ihren\ namen|votre\ nom))[^\n:：]{{0,24}}\r?\n[^\n:：]{{1,16}}[:：][\ \t]*(?:(?:我叫|我是|叫|是|(?i:it's|i'm|my\ name\ is|ich\ bin|je\ suis|c'est))[\ \t]*)?(?P<value>{NAME})[\ \t]*(?:[,，.。!！]|\r?\n|$)",
     ["姓名", "名字", "称呼", "叫什么", "your name", "full name", "ihr name", "ihren namen", "votre nom"],
     ["客服：请提供收货人姓名\n用户：刘洋\n", "Agent: May I have your full name?\nUser: Dana Whitfield\n", "客服：请问怎么称呼？\n顾客：张伟"],
     ["客服：请提供姓名\n用户：好的稍等", "Agent: your name?\nUser: why do you need it?", "客服：请问姓名？\n用户：姓名：张伟"],
     validator="person_name",
     extra='context = { deny_next = [":", "："] }\n')

ADDRESS_Q = r"(?:地址|送到哪|寄到哪|(?i:address|adresse|anschrift|where\ should\ we\ (?:ship|send)))"

address_en = r"(?i:following\ address|home\ address|shipping\ address|billing\ address|mailing\ address|postal\ address|street\ address|delivery\ address|residential\ address|ship\ to|address|addr\.?)"
address_de = r"(?i:anschrift|adresse|lieferadresse|rechnungsadresse|wohnadresse|postanschrift|wohnhaft\ in)"
address_fr = r"(?i:l'adresse\ suivante|adresse\ suivante|folgende\ adresse|folgende\ anschrift|adresse\ de\ livraison|adresse\ postale|adresse\ de\ facturation|domicile)"
address_zh = r"(?:收货地址|家庭住址|详细地址|送货地址|通讯地址|邮寄地址|寄送地址|户籍地址|居住地址|联系地址|公司地址|现住址|住址|地址|收件地址)"
LATIN_ADDR = r"[0-9A-ZÀ-ÖØ-Þ][^\r\n|;\t<>{}\[\]]{4,}[^\s.,;:!?，。、：]"
HAN_ADDR = r"[\x{4e00}-\x{9fa5}0-9A-Za-z][^\r\n，。；;！!？?|\t:：]{3,}[^\s.,;:!?，。、：]"
rule("pii.address.label.1", "ADDRESS",
     "Postal address after a label: Address:, Adresse :, Anschrift:, 收货地址：, 住址",
     rf"(?x){NOT_ALNUM_BEFORE}(?:{address_en}|{address_de}|{address_fr}){SEP}(?P<value>{LATIN_ADDR}|{HAN_ADDR})"
     + rf"|{address_zh}[\ \t]*(?:[:：=]|是|为|在)?[\ \t]*(?P<value2>{HAN_ADDR}|{LATIN_ADDR})",
     ["address", "addr", "ship to", "anschrift", "adresse", "wohnhaft", "domicile", "地址", "住址"],
     ["Address: 1600 Example Ave, Springfield, IL 62704", "收货地址：北京市朝阳区建国路88号SOHO现代城5号楼", "Adresse : 12 rue de la Paix, 75002 Paris", "Anschrift: Musterstraße 12, 10115 Berlin"],
     ["IP address: 192.0.2.1", "email address: a@example.com", "address: n/a", "地址：无"],
     validator="address",
     extra='context = { deny = ["ip address", "ip addr", "ipv4", "ipv6", "ip-adresse", "adresse ip", "mac address", "mac-adresse", "adresse mac", "email address", "e-mail address", "mail address", "e-mail-adresse", "adresse e-mail", "adresse mail", "adresse électronique", "memory address", "web address", "url", "wallet address", "contract address", "server address", "bind address", "listen address", "邮箱地址", "ip地址", "mac地址", "网址", "服务器地址", "邮件地址", "网络地址"], window = 24 }\n')

rule("pii.address.intro.1", "ADDRESS",
     "Postal address in a sentence: I live at, 我住在, j'habite au, ich wohne in",
     rf"(?x)(?i:i\ live\ at|i\ live\ on|we\ live\ at|my\ address\ is|ship\ it\ to|send\ it\ to|deliver\ it\ to|deliver\ to|mail\ it\ to|shipped\ to|delivered\ to|liefern\ sie\ an|schicken\ sie\ es\ an|livrez\ au|livrer\ au|envoyez-le\ au|j'habite\ au|j'habite\ à|j'habite|ich\ wohne\ in\ der|ich\ wohne\ in|ich\ wohne\ am|meine\ adresse\ ist)[\ \t]+(?P<value>[0-9A-ZÀ-ÖØ-Þ][^\r\n|;\t.!?]{{4,}}[^\s.,;:!?])"
     + rf"|(?:我住在|我家住在|我家在|寄到|送到|我的地址是)[\ \t]*(?P<value2>{HAN_ADDR})",
     ["live at", "live on", "my address", "ship it to", "send it to", "deliver it to", "mail it to", "deliver to", "shipped to", "delivered to", "liefern sie", "schicken sie", "livrez", "livrer", "envoyez", "habite", "wohne", "meine adresse", "住在", "我家在", "寄到", "送到", "地址是"],
     ["I live at 42 Example Street, Springfield", "我住在上海市浦东新区世纪大道100号", "j'habite au 5 avenue Victor Hugo, 69002 Lyon"],
     ["I live at home", "我住在这里"],
     validator="address")

rule("pii.address.dialogue_answer.1", "ADDRESS",
     "Address given as the answer to a question about it, on the next dialogue turn (收货地址是？ / 用户：…)",
     rf"(?x){ADDRESS_Q}[^\n]{{0,24}}\r?\n[^\n:：]{{1,16}}[:：][\ \t]*(?:(?:寄到|送到|地址是|是|在|(?i:it's|ship\ to|send\ it\ to))[\ \t]*)?(?P<value>{HAN_ADDR}|{LATIN_ADDR})",
     ["地址", "送到哪", "寄到哪", "address", "adresse", "anschrift", "where should we"],
     ["客服：收货地址是？\n用户：广东省深圳市南山区科技园科苑路15号", "Agent: What's the shipping address?\nUser: 42 Example Road, Springfield"],
     ["客服：收货地址是？\n用户：稍等", "Agent: what's your email address?\nUser: sure", "客服：收货地址是？\n用户：收货地址：稍等"],
     validator="address",
     extra='context = { deny_next = [":", "："] }\n')

rule("pii.address.cn_change.1", "ADDRESS",
     "Chinese address given without a label after 改成/改为/寄往/发往 (must contain a number and two of 省市区县路街道镇村)",
     rf"(?x)(?:改成|改为|更改为|换成|寄往|发往|送往|邮寄至|寄至|送至|发到)[\ \t]*(?P<value>{HAN_ADDR})",
     ["改成", "改为", "更改为", "换成", "寄往", "发往", "送往", "寄至", "送至", "发到"],
     ["地址写错了，改成浙江省杭州市西湖区文三路90号东部软件园", "麻烦寄往广州市天河区天河路385号"],
     ["改成明天发货吧", "发到我邮箱就行", "改成3号楼"],
     validator="address_cn_strict")

dob_labels = r"(?:(?i:date\ of\ birth|birth\ ?date|birthday|d\.o\.b\.?|dob|born\ on|born|geburtsdatum|geburtstag|geboren\ am|geboren|geb\.|date\ de\ naissance|né\ le|née\ le|né\(e\)\ le|date\ naiss\.?)|出生日期|出生年月日|出生年月|出生于|生日|出生)"
rule("pii.date_of_birth.1", "DATE_OF_BIRTH",
     "Date of birth after a label: DOB, date of birth, 出生日期, Geburtsdatum, né le",
     rf"(?x)(?:^|[^A-Za-z0-9])(?:{dob_labels})[\ \t]*(?:[:：=\-]|is|was|am|le|on|ist|是|为)?[\ \t]*(?:on\ |am\ |le\ )?(?P<value>{DATE})",
     ["birth", "dob", "d.o.b", "born", "geburt", "geboren", "geb.", "naissance", "né", "née", "出生", "生日"],
     ["DOB: 1985-03-14", "出生日期：1990年5月12日", "Geburtsdatum: 12.05.1978", "née le 3 mars 1992", "born on July 4, 1976", "date of birth 04/07/1976"],
     ["signé le 12/05/2020", "Ergeb. 12.05.2020", "DOB: unknown", "birthday party on Friday", "出生日期：不详"],
     validator="date", priority=25)

open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'person.toml'), 'w', encoding='utf-8').write(
"""# People: names, postal addresses and dates of birth, found only where the text marks
# them (labels in English, Chinese, German and French; e-mail headers; the display name in
# `Name <email>`; signatures after a closing; self-introductions). Precision first: no
# guessing from bare capitalized words.
#
# Every rule is keyword-gated (it runs only when Aho-Corasick finds one of its labels) and
# its `value` group is the name, address or date after the label. `open_end` lets a value
# that runs to the end of the line be cut short before another finding on the same line
# (a phone number after an address). Columns of CSV/TSV text are in `table.toml`.
#
# Several alternatives use `value2`, `value3`… groups: the first one that took part in the
# match is the value.
#
# Generated by person.py beside this file (name and date sub-patterns are shared between
# rules): edit the script and re-run it rather than editing this file.

""" + "\n".join(rules))
