# ruff: noqa: RUF001, RUF002  (original-script names are meant to hold non-Latin letters)
"""Name pools per script, so that screening (R11) meets transliteration and spelling variants.

Every name part carries its primary Latin transliteration, its original-script form (``None``
for Latin-script names) and the other spellings a border officer may type for it (Сергей is
Sergey, Sergei or Serguei; محمد is Mohammed, Muhammad or Mohamed). Family names come in a
male and a female form because Slavic, Greek and Baltic surnames are gendered.

The order of every tuple is part of the seed's determinism: the generator draws by index.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Script(StrEnum):
    LATIN = "Latin"
    CYRILLIC = "Cyrillic"
    ARABIC = "Arabic"
    GREEK = "Greek"
    HAN = "Han"


@dataclass(frozen=True, slots=True)
class Part:
    """One given or family name: primary Latin form, original script, other spellings."""

    latin: str
    original: str | None
    variants: tuple[str, ...] = ()

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.latin, *self.variants)


@dataclass(frozen=True, slots=True)
class Family:
    male: Part
    female: Part

    def form(self, female: bool) -> Part:
        return self.female if female else self.male


@dataclass(frozen=True, slots=True)
class Pool:
    key: str
    script: Script
    given_male: tuple[Part, ...]
    given_female: tuple[Part, ...]
    families: tuple[Family, ...]
    # Han writes the family name first; Chinese without a space, Japanese with one.
    family_first: bool = False
    separator: str = " "


@dataclass(frozen=True, slots=True)
class PersonName:
    family_name: str
    given_names: str
    original_script: str | None
    script: Script
    variants: tuple[str, ...]
    aliases: tuple[str, ...]


def _latin(spec: str) -> tuple[Part, ...]:
    """Parse ``"Müller/Mueller/Muller; Weber"`` into Latin-script parts (first = primary)."""
    parts = []
    for item in spec.split(";"):
        forms = [f.strip() for f in item.strip().split("/")]
        parts.append(Part(forms[0], None, tuple(forms[1:])))
    return tuple(parts)


def _orig(spec: str) -> tuple[Part, ...]:
    """Parse ``"Сергей=Sergey/Sergei; Иван=Ivan"`` into original-script parts."""
    parts = []
    for item in spec.split(";"):
        original, _, latin = item.strip().partition("=")
        forms = [f.strip() for f in latin.split("/")]
        parts.append(Part(forms[0], original.strip(), tuple(forms[1:])))
    return tuple(parts)


def _unisex(parts: tuple[Part, ...]) -> tuple[Family, ...]:
    return tuple(Family(p, p) for p in parts)


def _gendered(male: tuple[Part, ...], female: tuple[Part, ...]) -> tuple[Family, ...]:
    assert len(male) == len(female)
    return tuple(Family(m, f) for m, f in zip(male, female, strict=True))


def _russian(parts: tuple[Part, ...]) -> tuple[Family, ...]:
    """-ов/-ев/-ин surnames take -а (-a) in the female form; others are unisex."""
    families = []
    for p in parts:
        original = p.original or ""
        if original.endswith(("ов", "ев", "ёв", "ин")):
            female = Part(p.latin + "a", original + "а", tuple(v + "a" for v in p.variants))
            families.append(Family(p, female))
        else:
            families.append(Family(p, p))
    return tuple(families)


CYRILLIC = Pool(
    "cyrillic",
    Script.CYRILLIC,
    _orig(
        "Сергей=Sergey/Sergei/Serguei/Sergej; Александр=Aleksandr/Alexander/Alexandre;"
        "Дмитрий=Dmitriy/Dmitry/Dmitri/Dimitri; Алексей=Aleksey/Alexei/Alexey/Aleksei;"
        "Андрей=Andrey/Andrei/Andrej; Михаил=Mikhail/Mihail/Michail; Николай=Nikolay/Nikolai;"
        "Иван=Ivan; Владимир=Vladimir/Wladimir; Юрий=Yuriy/Yuri/Iouri/Jurij;"
        "Евгений=Yevgeniy/Evgeny/Evgeni; Олег=Oleg; Павел=Pavel/Pawel; Максим=Maksim/Maxim;"
        "Виктор=Viktor/Victor; Тимур=Timur; Арман=Arman; Нурлан=Nurlan; Ерлан=Yerlan/Erlan;"
        "Асхат=Askhat/Ashat/Aschat; Богдан=Bohdan/Bogdan; Тарас=Taras; Драган=Dragan;"
        "Георги=Georgi/Georgy/Gueorgui"
    ),
    _orig(
        "Анна=Anna; Мария=Mariya/Maria/Marija; Елена=Yelena/Elena/Jelena; Ольга=Olga/Olha;"
        "Наталья=Natalya/Natalia/Natalja; Татьяна=Tatyana/Tatiana/Tatjana;"
        "Екатерина=Yekaterina/Ekaterina/Katerina; Ирина=Irina/Iryna; Светлана=Svetlana;"
        "Юлия=Yuliya/Yulia/Julia; Дана=Dana; Айгерим=Aigerim/Aygerim; Асель=Asel/Assel;"
        "Гульнара=Gulnara/Goulnara; Оксана=Oksana/Oxana; Ксения=Kseniya/Ksenia/Xenia;"
        "Дарья=Darya/Daria/Dariya; Людмила=Lyudmila/Ludmila/Liudmyla"
    ),
    _russian(
        _orig(
            "Иванов=Ivanov/Ivanow; Смирнов=Smirnov/Smirnow; Кузнецов=Kuznetsov/Kouznetsov/Kuznecov;"
            "Попов=Popov/Popow; Соколов=Sokolov/Sokolow; Лебедев=Lebedev/Lebedew;"
            "Козлов=Kozlov/Kozlow; Новиков=Novikov/Novikow; Морозов=Morozov/Morosow;"
            "Петров=Petrov/Petrow; Волков=Volkov/Wolkow; Соловьёв=Solovyov/Solovyev/Soloviev;"
            "Васильев=Vasilyev/Vasiliev/Wassiljew; Зайцев=Zaytsev/Zaitsev/Saizew;"
            "Павлов=Pavlov/Pawlow; Семёнов=Semyonov/Semenov/Semionov; Фёдоров=Fyodorov/Fedorov;"
            "Сергеев=Sergeyev/Sergeev/Sergueiev; Нурланов=Nurlanov/Nourlanov;"
            "Ахметов=Akhmetov/Ahmetov/Achmetow; Абдуллаев=Abdullayev/Abdullaev;"
            "Исмаилов=Ismailov/Ismaylov; Омаров=Omarov/Omarow; Касымов=Kasymov/Kassymov/Qasymov;"
            "Сейткали=Seitkali/Seytkali/Seitqali; Шевченко=Shevchenko/Chevtchenko/Schewtschenko;"
            "Коваленко=Kovalenko/Kowalenko; Бондаренко=Bondarenko; Ткаченко=Tkachenko/Tkatchenko;"
            "Петровић=Petrović/Petrovic/Petrovich; Николић=Nikolić/Nikolic/Nikolich;"
            "Јовановић=Jovanović/Jovanovic/Yovanovich"
        )
    ),
)

ARABIC = Pool(
    "arabic",
    Script.ARABIC,
    _orig(
        "محمد=Mohammed/Muhammad/Mohamed/Mohamad; أحمد=Ahmed/Ahmad; علي=Ali/Aly; عمر=Omar/Umar;"
        "حسن=Hassan/Hasan; حسين=Hussein/Hussain/Husein; يوسف=Youssef/Yusuf/Yousef/Youssouf;"
        "خالد=Khaled/Khalid; إبراهيم=Ibrahim/Ebrahim; مصطفى=Mustafa/Moustafa/Mostafa;"
        "عبد الله=Abdullah/Abdallah/Abdellah; كريم=Karim/Kareem; سعيد=Said/Saeed/Saïd;"
        "طارق=Tarek/Tariq/Tarik; رضا=Reza/Rida/Ridha; جواد=Javad/Jawad"
    ),
    _orig(
        "فاطمة=Fatima/Fatma/Fatemeh; عائشة=Aisha/Aicha/Ayesha; مريم=Maryam/Mariam/Meryem;"
        "ليلى=Layla/Leila/Laila; نور=Nour/Noor/Nur; زينب=Zainab/Zaynab/Zeinab; سارة=Sara/Sarah;"
        "خديجة=Khadija/Khadidja/Khadijah; أمينة=Amina/Aminah; هدى=Huda/Houda/Hoda;"
        "رانيا=Rania/Raniya; ياسمين=Yasmin/Yasmine/Jasmin"
    ),
    _unisex(
        _orig(
            "حداد=Haddad/Hadad; الخطيب=Al-Khatib/El Khatib/Alkhatib; منصور=Mansour/Mansur/Mansoor;"
            "صالح=Saleh/Salih; حسين=Hussein/Husain/Hossain; العلي=Al-Ali/El Ali/Alali;"
            "الحسن=Al-Hassan/El Hassan/Alhasan; الشامي=Al-Shami/Al Chami/Ash-Shami;"
            "عبد الرحمن=Abdelrahman/Abdul Rahman/Abderrahmane; نصر=Nasr/Nassr;"
            "قاسم=Qasim/Kassem/Kasim; خان=Khan; أحمدي=Ahmadi/Ahmedi; حيدري=Heydari/Haidari/Haydari;"
            "رحيمي=Rahimi/Rahimy; بن علي=Ben Ali/Bin Ali; الزهراني=Al-Zahrani/Alzahrani;"
            "عثمان=Osman/Othman/Uthman; يوسف=Youssef/Yousef/Yusuf; درويش=Darwish/Derwich/Darwiche"
        )
    ),
)

GREEK = Pool(
    "greek",
    Script.GREEK,
    _orig(
        "Γεώργιος=Georgios/Yeorgios/Giorgos; Δημήτριος=Dimitrios/Demetrios/Dimitris;"
        "Κωνσταντίνος=Konstantinos/Constantinos/Kostas; Ιωάννης=Ioannis/Yannis/Giannis;"
        "Νικόλαος=Nikolaos/Nicolaos/Nikos; Παναγιώτης=Panagiotis/Panayiotis;"
        "Χρήστος=Christos/Hristos; Βασίλειος=Vasileios/Vasilios/Vassilis;"
        "Αθανάσιος=Athanasios/Thanasis; Μιχαήλ=Michail/Michael/Mikhail;"
        "Ευάγγελος=Evangelos/Evaggelos/Vangelis; Σπυρίδων=Spyridon/Spiridon/Spyros"
    ),
    _orig(
        "Μαρία=Maria; Ελένη=Eleni/Helen/Elena; Αικατερίνη=Aikaterini/Ekaterini/Katerina;"
        "Βασιλική=Vasiliki/Vassiliki; Σοφία=Sofia/Sophia; Αγγελική=Angeliki/Aggeliki;"
        "Γεωργία=Georgia/Yeorgia; Δήμητρα=Dimitra/Demetra; Ευαγγελία=Evangelia/Evaggelia;"
        "Ειρήνη=Eirini/Irini/Irene; Παναγιώτα=Panagiota/Panayiota; Χριστίνα=Christina/Hristina"
    ),
    _gendered(
        _orig(
            "Παπαδόπουλος=Papadopoulos/Papadopulos; Παπαδάκης=Papadakis;"
            "Γεωργίου=Georgiou/Yeorgiou;"
            "Οικονόμου=Oikonomou/Economou/Ikonomou; Νικολάου=Nikolaou/Nicolaou;"
            "Βλάχος=Vlachos/Vlahos; Αντωνίου=Antoniou; Μακρής=Makris/Macris;"
            "Παπαγεωργίου=Papageorgiou/Papayeorgiou; Δημητρίου=Dimitriou/Demetriou;"
            "Καραγιάννης=Karagiannis/Karayannis; Πετρόπουλος=Petropoulos;"
            "Κωνσταντινίδης=Konstantinidis/Constantinides; Ιωάννου=Ioannou/Yannou;"
            "Αλεξίου=Alexiou/Alexiu"
        ),
        _orig(
            "Παπαδοπούλου=Papadopoulou/Papadopulu; Παπαδάκη=Papadaki; Γεωργίου=Georgiou/Yeorgiou;"
            "Οικονόμου=Oikonomou/Economou/Ikonomou; Νικολάου=Nikolaou/Nicolaou;"
            "Βλάχου=Vlachou/Vlahou; Αντωνίου=Antoniou; Μακρή=Makri/Macri;"
            "Παπαγεωργίου=Papageorgiou/Papayeorgiou; Δημητρίου=Dimitriou/Demetriou;"
            "Καραγιάννη=Karagianni/Karayanni; Πετροπούλου=Petropoulou;"
            "Κωνσταντινίδου=Konstantinidou/Constantinidou; Ιωάννου=Ioannou/Yannou;"
            "Αλεξίου=Alexiou/Alexiu"
        ),
    ),
)

# Chinese: pinyin first, then Wade-Giles and Cantonese spellings common on old documents.
CHINESE = Pool(
    "chinese",
    Script.HAN,
    _orig(
        "伟=Wei/Wai; 强=Qiang/Chiang/Keung; 磊=Lei/Lui; 军=Jun/Chun/Kwan; 洋=Yang/Yeung;"
        "勇=Yong/Yung; 杰=Jie/Chieh/Kit; 涛=Tao/Tou; 明=Ming/Meng; 建国=Jianguo/Chien-kuo;"
        "志强=Zhiqiang/Chih-chiang/Chi-keung; 海峰=Haifeng/Hai-feng; 俊杰=Junjie/Chun-chieh;"
        "浩然=Haoran/Hao-jan"
    ),
    _orig(
        "芳=Fang/Fong; 娜=Na/Nah; 敏=Min/Man; 静=Jing/Ching; 丽=Li/Lai; 艳=Yan/Yen;"
        "秀英=Xiuying/Hsiu-ying/Sau-ying; 丽华=Lihua/Li-hua/Lai-wah; 婷=Ting;"
        "雪=Xue/Hsueh/Suet; 慧敏=Huimin/Hui-min/Wai-man; 欣怡=Xinyi/Hsin-yi/Yan-yi"
    ),
    _unisex(
        _orig(
            "王=Wang/Wong; 李=Li/Lee; 张=Zhang/Chang/Cheung; 刘=Liu/Lau/Lew; 陈=Chen/Chan/Chin;"
            "杨=Yang/Yeung; 黄=Huang/Hwang/Wong; 赵=Zhao/Chao/Chiu; 吴=Wu/Ng/Woo;"
            "周=Zhou/Chou/Chow; 徐=Xu/Hsu/Tsui; 孙=Sun/Suen; 马=Ma/Mah; 朱=Zhu/Chu/Choo;"
            "胡=Hu/Woo; 郭=Guo/Kuo/Kwok; 林=Lin/Lam/Lim; 何=He/Ho; 高=Gao/Kao/Ko; 罗=Luo/Lo/Law"
        )
    ),
    family_first=True,
    separator="",
)

# Japanese: modified Hepburn first, then Kunrei-shiki and long-vowel spellings.
JAPANESE = Pool(
    "japanese",
    Script.HAN,
    _orig(
        "健二=Kenji/Kenzi; 翔太=Shota/Shouta/Syota; 大輔=Daisuke/Daisuké; 拓也=Takuya;"
        "浩=Hiroshi/Hirosi; 誠=Makoto; 健太=Kenta; 直樹=Naoki; 隆=Takashi/Takasi;"
        "和也=Kazuya; 修=Osamu; 亮=Ryo/Ryou/Ryoh"
    ),
    _orig(
        "陽子=Yoko/Youko/Yoh-ko; 恵子=Keiko; 美咲=Misaki; 由美=Yumi; 直子=Naoko; 愛=Ai;"
        "裕子=Yuko/Yuuko/Yuhko; 明美=Akemi; 真由美=Mayumi; さくら=Sakura; 千尋=Chihiro/Tihiro"
    ),
    _unisex(
        _orig(
            "佐藤=Sato/Satoh/Satou; 鈴木=Suzuki; 高橋=Takahashi/Takahasi; 田中=Tanaka;"
            "渡辺=Watanabe/Watanabé; 伊藤=Ito/Itoh/Itou; 山本=Yamamoto; 中村=Nakamura;"
            "小林=Kobayashi/Kobayasi; 加藤=Kato/Katoh/Katou; 吉田=Yoshida/Yosida; 山田=Yamada;"
            "佐々木=Sasaki; 松本=Matsumoto/Matumoto; 井上=Inoue/Inoué"
        )
    ),
    family_first=True,
)

WESTERN = Pool(
    "western",
    Script.LATIN,
    _latin(
        "John/Jon; James; Michael/Micheal; David; Thomas/Tomas; Peter/Pieter; Lukas/Lucas;"
        "Jürgen/Juergen/Jurgen; Stefan/Stephan; Jan; Lars; Erik/Eric; Henrik/Hendrik; Sven;"
        "William; Daniel; Mark/Marc"
    ),
    _latin(
        "Anna; Emma; Sarah/Sara; Laura; Julia; Sophie/Sofie; Katharina/Katarina/Catharina; Ingrid;"
        "Emily/Emilie; Hannah/Hanna; Lisa; Karin/Karen; Sanne; Elisabeth/Elizabeth; Johanna"
    ),
    _unisex(
        _latin(
            "Smith/Smyth; Johnson/Jonson; Brown/Browne; Müller/Mueller/Muller;"
            "Schmidt/Schmitt/Schmid; Schneider/Schnyder; Fischer/Fisher; Weber; Meyer/Meier/Maier;"
            "Wagner; Becker/Bekker; de Jong/De Jong/Dejong; Jansen/Janssen; de Vries/De Vries;"
            "van Dijk/Van Dyk/van Dyke; Andersson/Anderson/Andersen; Johansson/Johanson;"
            "Nielsen/Nilsen; Hansen/Hanssen; Larsen/Larson; Walsh/Welsh; O'Brien/OBrien/O Brien;"
            "Murphy; Taylor/Tailor; Wilson"
        )
    ),
)

ROMANCE = Pool(
    "romance",
    Script.LATIN,
    _latin(
        "Jean; Pierre; Luc; François/Francois; Giuseppe/Guiseppe; Marco/Marko; Luca/Lucca;"
        "Alessandro/Alexandro; José/Jose; Juan; Carlos/Karlos; Luis/Luiz; João/Joao; Miguel;"
        "Javier/Xavier; Andrés/Andres; Diego; Antonio/António/Antônio; Rafael/Raphael"
    ),
    _latin(
        "Marie; Camille; Chloé/Chloe; Giulia/Julia; Francesca/Franchesca; Chiara/Kiara;"
        "María/Maria; Carmen; Lucía/Lucia; Ana/Anna; Sofía/Sofia; Isabel/Isabelle/Izabel;"
        "Gabriela/Gabriella; Inês/Ines; Beatriz/Beatris; Valentina"
    ),
    _unisex(
        _latin(
            "Martin/Martín; Bernard; Dubois/Du Bois; Moreau/Moreaux; Lefèvre/Lefevre/Lefebvre;"
            "Rossi/Rossy; Russo; Ferrari; Esposito/Espósito; Bianchi/Bianki; Romano;"
            "García/Garcia; Fernández/Fernandez; González/Gonzalez/Gonsalez;"
            "Rodríguez/Rodriguez; López/Lopez; Martínez/Martinez; Pérez/Perez;"
            "Sánchez/Sanchez; Silva/da Silva; Santos/dos Santos; Oliveira/Oliveyra;"
            "Pereira/Pereyra; Costa/da Costa; Gómez/Gomez/Gomes"
        )
    ),
)

CENTRAL = Pool(
    "central",
    Script.LATIN,
    _latin(
        "Łukasz/Lukasz; Piotr; Tomasz/Tomas; Krzysztof/Krzystof/Kristof; Jiří/Jiri; Petr; Marek;"
        "Ante; Luka; László/Laszlo; Zoltán/Zoltan; Ion/Ioan; Andrei/Andrej; Florin; Arben;"
        "Jonas; Mindaugas"
    ),
    _latin(
        "Agnieszka/Agneska; Katarzyna/Katazyna; Małgorzata/Malgorzata; Zofia/Zophia; Jana;"
        "Tereza/Teresa; Petra; Ivana; Eszter/Esther; Zsófia/Zsofia; Ioana/Joana;"
        "Andreea/Andrea; Ilona; Rūta/Ruta"
    ),
    (
        *_unisex(_latin("Nowak/Novak; Wójcik/Wojcik; Svoboda; Horvat/Horvath")),
        *_gendered(
            _latin(
                "Kowalski/Kovalski; Wiśniewski/Wisniewski; Kamiński/Kaminski; Novák/Novak;"
                "Dvořák/Dvorak; Kazlauskas; Bērziņš/Berzins"
            ),
            _latin(
                "Kowalska/Kovalska; Wiśniewska/Wisniewska; Kamińska/Kaminska; Nováková/Novakova;"
                "Dvořáková/Dvorakova; Kazlauskienė/Kazlauskiene; Bērziņa/Berzina"
            ),
        ),
        *_unisex(
            _latin(
                "Kovačević/Kovacevic/Kovachevich; Babić/Babic; Nagy/Nadj; Tóth/Toth;"
                "Szabó/Szabo; Popescu; Ionescu; Popa; Hoxha/Hodja/Hoxa; Krasniqi/Krasnici"
            )
        ),
    ),
)

AFRICAN = Pool(
    "african",
    Script.LATIN,
    _latin(
        "Kwame; Kofi; Chinedu; Emeka; Oluwaseun/Oluseun; Mamadou/Mamadu; Moussa/Musa/Mousa;"
        "Ibrahima/Ibrahim; Abdoulaye/Abdulai/Abdullahi; Tendai; Thabo; Sipho;"
        "Jean-Claude/Jean Claude; Amadou/Ahmadou; Yaw"
    ),
    _latin(
        "Ama; Akosua; Chioma; Ngozi; Aminata/Aminatou; Fatoumata/Fatumata/Fatimata; Awa;"
        "Mariama/Mariame; Nomvula; Thandiwe/Thandi; Wanjiru; Grace; Esther; Adaeze"
    ),
    _unisex(
        _latin(
            "Mensah/Mensa; Boateng/Boetang; Okafor/Okaffor; Okonkwo; Adeyemi; Diallo/Dialo/Jallow;"
            "Traoré/Traore; Touré/Toure/Ture; Keïta/Keita; Camara/Kamara; Diop/Jobe;"
            "Ndiaye/N'Diaye/Njie; Kamau; Otieno; Mwangi; Banda; Dlamini; Nkosi; Tshabalala;"
            "Habimana; Nsengiyumva; Tesfaye/Tesfai; Haile/Hailé"
        )
    ),
)

ASIAN = Pool(
    "asian",
    Script.LATIN,
    _latin(
        "Mehmet/Mehmed; Mustafa/Moustafa; Emre; Burak; Minh; Đức/Duc; Raj; Arjun;"
        "Rahul; Sanjay/Sanjai; Budi; Agus; Min-jun/Minjun/Min Jun; Ji-hoon/Jihoon/Ji Hoon;"
        "Somchai/Somchay; Rashid/Rasheed"
    ),
    _latin(
        "Ayşe/Ayse/Aishe; Elif; Zeynep/Zeinep; Priya/Pria; Anjali; Lakshmi/Laxmi; Siti; Dewi/Devi;"
        "Ngọc/Ngoc; Lan; Ji-woo/Jiwoo/Ji Woo; Seo-yeon/Seoyeon/Soyeon; Malee/Mali; Maricel"
    ),
    (
        *_unisex(_latin("Yılmaz/Yilmaz; Kaya; Demir; Şahin/Sahin/Shahin; Çelik/Celik/Chelik")),
        *_gendered(_latin("Aliyev/Aliev"), _latin("Aliyeva/Alieva")),
        *_unisex(
            _latin(
                "Nguyễn/Nguyen; Trần/Tran; Lê/Le; Phạm/Pham; Sharma/Sarma; Patel; Singh/Sing;"
                "Kumar;"
                "Gupta; Santoso/Santosa; Wijaya/Widjaja; Kim/Gim; Lee/Yi/Rhee; Park/Pak/Bak;"
                "Reyes/Reyez; Dela Cruz/De la Cruz/Delacruz"
            )
        ),
    ),
)

POOLS: tuple[Pool, ...] = (WESTERN, ROMANCE, CENTRAL, AFRICAN, ASIAN, CYRILLIC, ARABIC, GREEK,
                           CHINESE, JAPANESE)

def _codes(spec: str) -> list[str]:
    return spec.split()


_BY_COUNTRY: dict[str, Pool] = {
    **dict.fromkeys(_codes("RU UA BY KZ KG TJ BG RS MK MN"), CYRILLIC),
    **dict.fromkeys(
        _codes("DZ BH EG IQ JO KW LB LY MR MA OM PS QA SA SD SY TN AE YE AF IR PK"), ARABIC
    ),
    **dict.fromkeys(_codes("GR CY"), GREEK),
    "CN": CHINESE,
    "JP": JAPANESE,
    **dict.fromkeys(_codes("PL CZ SK HR SI BA ME HU RO MD AL LT LV EE"), CENTRAL),
    **dict.fromkeys(
        _codes(
            "FR IT ES PT AD MC SM VA BE LU CH AR BO BR CL CO CR CU DO EC SV GT HN MX NI PA PY PE "
            "UY VE HT CV AO MZ GQ ST"
        ),
        ROMANCE,
    ),
    **dict.fromkeys(
        _codes("TR AZ UZ TM AM GE IN BD LK NP BT ID MY BN VN PH KR KP TH LA KH MM TL SG MV IL"),
        ASIAN,
    ),
}

_BY_REGION: dict[str, Pool] = {
    "Africa": AFRICAN,
    "Americas": WESTERN,
    "Asia": ASIAN,
    "Europe": WESTERN,
    "Oceania": WESTERN,
}


def pool_for(country_code: str, region: str) -> Pool:
    """The pool most names of a country's nationals are drawn from."""
    return _BY_COUNTRY.get(country_code, _BY_REGION[region])


def _full(given: str, family: str) -> str:
    return f"{given} {family}"


def make_name(rng: random.Random, pool: Pool, female: bool) -> PersonName:
    """Draw one person's name from a pool, with its variants and 0-2 aliases."""
    givens = pool.given_female if female else pool.given_male
    given = rng.choice(givens)
    family = rng.choice(pool.families).form(female)
    given_latin = given.latin
    # Latin-script cultures often carry a second given name (Maria Elena, Jean Pierre).
    second: Part | None = None
    if pool.script is Script.LATIN and rng.random() < 0.15:
        second = rng.choice(givens)
        if second == given:
            second = None
        else:
            given_latin = f"{given.latin} {second.latin}"
    original: str | None = None
    if given.original is not None and family.original is not None:
        first, last = (
            (family.original, given.original) if pool.family_first else
            (given.original, family.original)
        )
        original = f"{first}{pool.separator}{last}"

    primary = _full(given_latin, family.latin)
    tail = f" {second.latin}" if second else ""
    variants: list[str] = []
    reversed_order = _full(family.latin, given_latin)
    if pool.family_first and reversed_order != primary:
        # Han names are also written family-name first in Latin letters.
        variants.append(reversed_order)
    for g in given.spellings:
        for f in family.spellings:
            candidate = _full(g + tail, f)
            if candidate != primary and candidate not in variants:
                variants.append(candidate)
    variants = variants[:4]

    aliases: list[str] = []
    for _ in range(rng.choices((0, 1, 2), cum_weights=(70, 92, 100))[0]):
        kind = rng.randrange(3)
        if kind == 0:
            alias = f"{given.latin[0]}. {family.latin}"
        elif kind == 1:
            alias = _full(rng.choice(givens).latin, family.latin)
        else:
            alias = _full(rng.choice(givens).latin, rng.choice(pool.families).form(female).latin)
        if alias != primary and alias not in aliases:
            aliases.append(alias)
    return PersonName(
        family_name=family.latin,
        given_names=given_latin,
        original_script=original,
        script=pool.script,
        variants=tuple(variants),
        aliases=tuple(aliases),
    )
