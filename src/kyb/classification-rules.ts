/**
 * The keyword rule table behind `classifyBusiness`, kept as data so `docs/kyb-rules.md` can be written from it
 * (a test fails when a rule is missing there).
 *
 * Invariants, each checked by `classification.test.ts`:
 * - ids are unique and stable: `matched_rule` is stored and compared, so an id is never reused for another meaning;
 * - codes are NAICS 2022: a 2-digit sector or a 4-digit industry group;
 * - every term is already normalised (lower-case ASCII words, single spaces), the form text is matched in;
 * - no term belongs to two rules, so a term's industry never depends on rule order.
 *
 * Order matters only for ties (see `classifyBusiness`): higher-risk and more specific rules come first, so an
 * ambiguous name ("crypto bank") lands on the industry that deserves a compliance look, and the 2-digit sector
 * catch-alls come last.
 */
export interface ClassificationRule {
  /** Stable id, reported as `matched_rule` */
  readonly id: string;
  /** NAICS 2022 code: a 2-digit sector or a 4-digit industry group */
  readonly code: string;
  /** The NAICS 2022 title of `code` */
  readonly title: string;
  /** Normalised words and phrases; a phrase matches only as whole, consecutive words */
  readonly terms: readonly string[];
}

export const CLASSIFICATION_RULES: readonly ClassificationRule[] = [
  // Higher-risk industries first: a tie between one of these and an ordinary industry goes to these.
  { id: "virtual-assets", code: "5239", title: "Other Financial Investment Activities",
    terms: ["crypto", "cryptocurrency", "cryptocurrencies", "crypto exchange", "cryptocurrency exchange", "bitcoin",
      "bitcoin mining", "crypto mining", "ethereum", "blockchain", "stablecoin", "stablecoins", "virtual asset",
      "virtual assets", "virtual asset service provider", "digital asset", "digital assets", "vasp"] },
  { id: "gambling", code: "7132", title: "Gambling Industries",
    terms: ["casino", "casinos", "online casino", "gambling", "betting", "sports betting", "bookmaker", "bookmakers",
      "lottery", "poker", "slot machines"] },
  { id: "small-arms-ammunition", code: "3329", title: "Other Fabricated Metal Product Manufacturing",
    terms: ["firearm", "firearms", "small arms", "ammunition", "munitions", "handguns", "rifles", "gunsmith"] },
  { id: "aerospace-defence", code: "3364", title: "Aerospace Product and Parts Manufacturing",
    terms: ["aerospace", "missile", "missiles", "guided missiles", "aircraft parts", "aircraft manufacturing",
      "defense contractor", "defence contractor", "space vehicles"] },
  { id: "precious-metals-stones", code: "4239", title: "Miscellaneous Durable Goods Merchant Wholesalers",
    terms: ["precious metal", "precious metals", "precious stones", "bullion", "gold bullion", "gold dealer",
      "gold trading", "diamond dealer", "diamond trading"] },
  { id: "jewelry-retail", code: "4583", title: "Jewelry, Luggage, and Leather Goods Retailers",
    terms: ["jewelry", "jewellery", "jeweler", "jeweller", "jewelers", "jewellers"] },
  { id: "money-services", code: "5223", title: "Activities Related to Credit Intermediation",
    terms: ["money transfer", "money transmitter", "money remittance", "remittance", "remittances",
      "payment services", "payment processing", "payment processor", "payment institution", "check cashing",
      "cheque cashing", "money order", "e money", "electronic money"] },
  { id: "securities-exchange", code: "5232", title: "Securities and Commodity Exchanges",
    terms: ["stock exchange", "securities exchange", "commodity exchange"] },
  { id: "securities-fx-brokerage", code: "5231", title: "Securities and Commodity Contracts Intermediation and Brokerage",
    terms: ["investment bank", "investment banking", "brokerage", "stockbroker", "broker dealer", "securities dealer",
      "currency exchange", "bureau de change", "foreign exchange", "forex"] },
  { id: "investment-funds", code: "5259", title: "Other Investment Pools and Funds",
    terms: ["hedge fund", "investment fund", "private equity fund", "mutual fund"] },
  { id: "nondepository-credit", code: "5222", title: "Nondepository Credit Intermediation",
    terms: ["consumer lending", "consumer loans", "payday loans", "payday lender", "mortgage lender", "microfinance",
      "pawnshop", "pawn shop", "pawnbroker"] },
  { id: "bank", code: "5221", title: "Depository Credit Intermediation",
    terms: ["bank", "banks", "banking", "savings bank", "commercial bank", "credit union", "credit unions",
      "savings and loan", "building society"] },
  { id: "insurance-agency", code: "5242", title: "Agencies, Brokerages, and Other Insurance Related Activities",
    terms: ["insurance broker", "insurance brokerage", "insurance agency", "insurance agent", "claims adjusting"] },
  { id: "insurance-carrier", code: "5241", title: "Insurance Carriers",
    terms: ["insurance", "insurer", "reinsurance", "life assurance"] },
  { id: "art-antiques", code: "4599", title: "Other Miscellaneous Retailers",
    terms: ["art dealer", "art dealers", "art gallery", "fine art", "antiques", "antique dealer"] },
  { id: "charity", code: "8132", title: "Grantmaking and Giving Services",
    terms: ["charity", "charities", "charitable", "nonprofit", "non profit", "ngo", "grantmaking"] },
  // Cash-intensive trades.
  { id: "restaurant", code: "7225", title: "Restaurants and Other Eating Places",
    terms: ["restaurant", "restaurants", "cafe", "cafes", "coffee shop", "bistro", "pizzeria", "diner", "takeaway"] },
  { id: "special-food-services", code: "7223", title: "Special Food Services",
    terms: ["catering", "caterer", "food truck", "food trucks", "mobile food"] },
  { id: "drinking-places", code: "7224", title: "Drinking Places (Alcoholic Beverages)",
    terms: ["pub", "pubs", "nightclub", "nightclubs", "cocktail bar", "wine bar", "tavern"] },
  { id: "liquor-retail", code: "4453", title: "Beer, Wine, and Liquor Retailers",
    terms: ["liquor store", "off licence", "wine shop", "bottle shop"] },
  { id: "car-dealer", code: "4411", title: "Automobile Dealers",
    terms: ["car dealer", "car dealership", "auto dealer", "automobile dealer", "used cars"] },
  { id: "auto-repair-car-wash", code: "8111", title: "Automotive Repair and Maintenance",
    terms: ["auto repair", "car repair", "car wash", "oil change", "body shop", "mechanic"] },
  { id: "laundry", code: "8123", title: "Drycleaning and Laundry Services",
    terms: ["laundry", "laundromat", "dry cleaning", "dry cleaner"] },
  { id: "gas-station", code: "4571", title: "Gasoline Stations",
    terms: ["gas station", "petrol station", "filling station", "fuel station", "service station"] },
  { id: "real-estate-services", code: "5313", title: "Activities Related to Real Estate",
    terms: ["real estate", "real estate agency", "real estate agent", "estate agent", "estate agents", "realtor",
      "realty", "property management", "property manager"] },
  { id: "real-estate-lessor", code: "5311", title: "Lessors of Real Estate",
    terms: ["landlord", "property rental", "property leasing", "apartment rental"] },
  // Extractive industries: corruption exposure, and the oil/gas/mining phrases other rules must win against.
  { id: "oil-gas", code: "2111", title: "Oil and Gas Extraction",
    terms: ["oil", "oil and gas", "crude oil", "natural gas", "petroleum", "oilfield", "oil exploration"] },
  { id: "metal-ore-mining", code: "2122", title: "Metal Ore Mining",
    terms: ["gold mining", "gold mine", "copper mining", "copper mine", "iron ore", "metal ore", "lithium mining"] },
  { id: "coal-mining", code: "2121", title: "Coal Mining", terms: ["coal mining", "coal mine", "colliery"] },
  // Ordinary industries.
  { id: "software-publisher", code: "5132", title: "Software Publishers",
    terms: ["software publisher", "software publishing"] },
  { id: "software-it-services", code: "5415", title: "Computer Systems Design and Related Services",
    terms: ["software", "software development", "custom software", "it consulting", "it outsourcing",
      "information technology", "systems integration", "web development", "app development"] },
  { id: "hosting-data-processing", code: "5182",
    title: "Computing Infrastructure Providers, Data Processing, Web Hosting, and Related Services",
    terms: ["web hosting", "cloud hosting", "cloud infrastructure", "data center", "data centre", "data processing",
      "server farm"] },
  { id: "telecommunications", code: "5171", title: "Wired and Wireless Telecommunications (except Satellite)",
    terms: ["telecommunications", "telecom", "telecoms", "mobile network operator", "internet service provider",
      "broadband"] },
  { id: "hotel", code: "7211", title: "Traveler Accommodation",
    terms: ["hotel", "hotels", "motel", "hostel", "bed and breakfast"] },
  { id: "residential-construction", code: "2361", title: "Residential Building Construction",
    terms: ["residential construction", "residential building", "home builder", "homebuilder", "homebuilding",
      "house building", "housing construction"] },
  { id: "nonresidential-construction", code: "2362", title: "Nonresidential Building Construction",
    terms: ["commercial construction", "industrial construction", "nonresidential construction"] },
  { id: "pharmaceutical", code: "3254", title: "Pharmaceutical and Medicine Manufacturing",
    terms: ["pharmaceutical", "pharmaceuticals", "biopharmaceutical", "drug manufacturer", "drug manufacturing",
      "generic drugs", "vaccine", "vaccines"] },
  { id: "pharmacy", code: "4561", title: "Health and Personal Care Retailers",
    terms: ["pharmacy", "pharmacies", "drugstore", "chemist"] },
  { id: "trucking", code: "4841", title: "General Freight Trucking",
    terms: ["trucking", "truck", "trucks", "truckload", "haulage", "haulier", "hauler", "road freight"] },
  { id: "freight-arrangement", code: "4885", title: "Freight Transportation Arrangement",
    terms: ["logistics", "freight forwarding", "freight forwarder", "customs broker", "customs brokerage"] },
  { id: "water-transport", code: "4831", title: "Deep Sea, Coastal, and Great Lakes Water Transportation",
    terms: ["shipping line", "shipping company", "container shipping", "maritime shipping", "ocean freight"] },
  { id: "airline", code: "4811", title: "Scheduled Air Transportation", terms: ["airline", "airlines", "air carrier"] },
  { id: "grocery", code: "4451", title: "Grocery and Convenience Retailers",
    terms: ["grocery", "groceries", "supermarket", "supermarkets", "convenience store"] },
  { id: "tobacco", code: "3122", title: "Tobacco Manufacturing", terms: ["tobacco", "cigarettes", "cigars"] },
  { id: "legal", code: "5411", title: "Legal Services",
    terms: ["law firm", "lawyer", "lawyers", "attorney", "attorneys", "solicitor", "solicitors", "notary",
      "legal services"] },
  { id: "accounting", code: "5412", title: "Accounting, Tax Preparation, Bookkeeping, and Payroll Services",
    terms: ["accounting", "accountant", "accountants", "bookkeeping", "tax preparation", "payroll services", "auditing"] },
  { id: "management-consulting", code: "5416", title: "Management, Scientific, and Technical Consulting Services",
    terms: ["consulting", "consultancy", "management consulting", "strategy consulting"] },
  { id: "advertising", code: "5418", title: "Advertising, Public Relations, and Related Services",
    terms: ["advertising", "marketing agency", "digital marketing", "public relations", "media buying"] },
  { id: "hospital", code: "6221", title: "General Medical and Surgical Hospitals", terms: ["hospital", "hospitals"] },
  { id: "dentist", code: "6212", title: "Offices of Dentists",
    terms: ["dentist", "dentists", "dental clinic", "dental practice", "dentistry"] },
  { id: "physician", code: "6211", title: "Offices of Physicians",
    terms: ["clinic", "medical practice", "physician", "physicians", "general practitioner"] },
  { id: "higher-education", code: "6113", title: "Colleges, Universities, and Professional Schools",
    terms: ["university", "universities", "college", "business school"] },
  { id: "other-instruction", code: "6116", title: "Other Schools and Instruction",
    terms: ["driving school", "language school", "tutoring", "music lessons"] },
  { id: "school", code: "6111", title: "Elementary and Secondary Schools",
    terms: ["school", "schools", "primary school", "secondary school", "high school", "elementary school"] },
  { id: "grain-farming", code: "1111", title: "Oilseed and Grain Farming",
    terms: ["grain farming", "wheat farming", "crop farming", "soybean farming"] },
  { id: "aquaculture", code: "1125", title: "Aquaculture", terms: ["aquaculture", "fish farm", "fish farming"] },
  // 2-digit sector catch-alls, last: any more specific rule with the same phrase length wins the tie.
  { id: "construction", code: "23", title: "Construction",
    terms: ["construction", "contractor", "contractors", "builder", "builders"] },
  { id: "mining", code: "21", title: "Mining, Quarrying, and Oil and Gas Extraction",
    terms: ["mining", "quarry", "quarrying"] },
  { id: "agriculture", code: "11", title: "Agriculture, Forestry, Fishing and Hunting",
    terms: ["farm", "farms", "farming", "agriculture", "agricultural", "forestry", "fishing"] },
];
