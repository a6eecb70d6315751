/**
 * Word lists for the demo graph generator. Names are built by combining these, so a pool of a few thousand distinct
 * names needs only a few dozen words per list. Everything here is invented for the demo except the dual-use tool
 * names (publicly documented software that shows up in real intrusions) and the benign domains (well-known services
 * that appear on allow-lists).
 */

/** Malware family names are prefix + suffix ("GhostLoader"); the suffix decides the STIX malware_types value. */
export const MALWARE_PREFIXES = [
  'Ghost', 'Night', 'Crimson', 'Iron', 'Silent', 'Shadow', 'Venom', 'Frost', 'Ember', 'Hollow', 'Obsidian', 'Raven',
  'Cobalt', 'Sable', 'Viper', 'Onyx', 'Thorn', 'Wraith', 'Quartz', 'Nimbus', 'Glacier', 'Drift', 'Rust', 'Pulse',
  'Mirage', 'Static', 'Vortex', 'Cinder', 'Gloom', 'Halo', 'Jackal', 'Kraken', 'Lumen', 'Murk', 'Nova', 'Orbit',
  'Phantom', 'Quill', 'Rook', 'Spectre',
] as const;
export const MALWARE_SUFFIXES: ReadonlyArray<readonly [suffix: string, malwareType: string]> = [
  ['Loader', 'downloader'],
  ['RAT', 'remote-access-trojan'],
  ['Locker', 'ransomware'],
  ['Stealer', 'spyware'],
  ['Bot', 'bot'],
  ['Wiper', 'wiper'],
  ['Miner', 'resource-exploitation'],
  ['Shell', 'webshell'],
  ['Dropper', 'dropper'],
  ['Door', 'backdoor'],
  ['Worm', 'worm'],
  ['Logger', 'keylogger'],
  ['Crypt', 'ransomware'],
  ['Agent', 'trojan'],
  ['Kit', 'rootkit'],
];

/** Dual-use software that real intrusion reports name; [name, STIX tool_types value]. */
export const TOOLS: ReadonlyArray<readonly [name: string, toolType: string]> = [
  ['Cobalt Strike', 'remote-access'],
  ['Mimikatz', 'credential-exploitation'],
  ['PsExec', 'remote-access'],
  ['AdFind', 'information-gathering'],
  ['BloodHound', 'information-gathering'],
  ['Rclone', 'unknown'],
  ['Impacket', 'exploitation'],
  ['Sliver', 'remote-access'],
  ['Metasploit', 'exploitation'],
  ['Chisel', 'remote-access'],
  ['Plink', 'remote-access'],
  ['AnyDesk', 'remote-access'],
  ['ngrok', 'remote-access'],
  ['Nmap', 'vulnerability-scanning'],
  ['Masscan', 'vulnerability-scanning'],
  ['LaZagne', 'credential-exploitation'],
  ['Rubeus', 'credential-exploitation'],
  ['SharpHound', 'information-gathering'],
  ['ProcDump', 'credential-exploitation'],
  ['WinSCP', 'unknown'],
  ['PowerSploit', 'exploitation'],
  ['Wireshark', 'network-capture'],
  ['hping3', 'denial-of-service'],
  ['Advanced IP Scanner', 'information-gathering'],
];

/** Intrusion sets are adjective + animal ("Velvet Heron"). */
export const SET_ADJECTIVES = [
  'Velvet', 'Amber', 'Brass', 'Copper', 'Dusky', 'Emerald', 'Fallow', 'Granite', 'Hazel', 'Indigo', 'Jade', 'Khaki',
  'Lilac', 'Maroon', 'Nacre', 'Ochre', 'Pewter', 'Russet', 'Saffron', 'Tawny', 'Umber', 'Vermilion', 'Wheat',
  'Ashen', 'Bronze', 'Cerulean', 'Dun', 'Ebony', 'Flint', 'Garnet',
] as const;
export const SET_ANIMALS = [
  'Heron', 'Lynx', 'Marten', 'Otter', 'Pangolin', 'Quokka', 'Shrike', 'Tapir', 'Vole', 'Wren', 'Yak', 'Zebu',
  'Bittern', 'Caracal', 'Dhole', 'Egret', 'Ferret', 'Gecko', 'Hyrax', 'Ibex', 'Jerboa', 'Kestrel', 'Loris',
  'Magpie', 'Numbat', 'Ocelot', 'Plover', 'Serval', 'Tern', 'Wombat',
] as const;

/** Threat actors go by handles ("zerocobra"). */
export const HANDLE_HEADS = [
  'zero', 'dark', 'null', 'root', 'hex', 'byte', 'cold', 'grim', 'lost', 'mad', 'neo', 'pix', 'red', 'sly', 'toxic',
  'void', 'wild', 'xor', 'ice', 'blk',
] as const;
export const HANDLE_TAILS = [
  'cobra', 'falcon', 'phreak', 'ghost', 'kid', 'lord', 'mantis', 'ninja', 'owl', 'pirate', 'reaper', 'shark',
  'tiger', 'vandal', 'wolf', 'zed', 'jester', 'baron', 'spider', 'dragon',
] as const;

/** Campaigns are "Operation <word> <word>". */
export const OPERATION_FIRST = [
  'Glass', 'Broken', 'Silent', 'Hidden', 'Paper', 'Copper', 'Winter', 'Distant', 'Falling', 'Hollow', 'Quiet',
  'Scarlet', 'Sunken', 'Twin', 'Wandering', 'Pale', 'Lunar', 'Salt', 'Iron', 'Open',
] as const;
export const OPERATION_SECOND = [
  'Harbor', 'Lantern', 'Meridian', 'Orchard', 'Bridge', 'Compass', 'Cascade', 'Ledger', 'Beacon', 'Quarry',
  'Tideline', 'Gateway', 'Monsoon', 'Archive', 'Furnace', 'Signal', 'Thicket', 'Keystone', 'Canopy', 'Relay',
] as const;

/** Victim organisations are place + kind ("Northbridge Regional Hospital"); the kind carries the STIX sector. */
export const ORG_PLACES = [
  'Northbridge', 'Harbor Point', 'Eastvale', 'Westmoor', 'Silverlake', 'Redcliff', 'Oakridge', 'Brightwater',
  'Stonegate', 'Fairhaven', 'Kingsport', 'Maplewood', 'Lakeshore', 'Highfield', 'Riverton', 'Ashford', 'Glenmore',
  'Pinecrest', 'Clearwater', 'Summerset',
] as const;
export const ORG_KINDS: ReadonlyArray<readonly [kind: string, sector: string]> = [
  ['Regional Hospital', 'healthcare'],
  ['Health Partners', 'healthcare'],
  ['Credit Union', 'financial-services'],
  ['Savings Bank', 'financial-services'],
  ['Mutual Insurance', 'insurance'],
  ['Power & Light', 'utilities'],
  ['Energy Cooperative', 'energy'],
  ['Water Authority', 'utilities'],
  ['City Council', 'government-local'],
  ['Ministry of Transport', 'government-national'],
  ['Logistics', 'transportation'],
  ['Freight Rail', 'transportation'],
  ['Precision Manufacturing', 'manufacturing'],
  ['Aerospace Components', 'aerospace'],
  ['Pharmaceuticals', 'pharmaceuticals'],
  ['University', 'education'],
  ['Telecom', 'telecommunications'],
  ['Software Labs', 'technology'],
  ['Retail Group', 'retail'],
  ['Hotels & Resorts', 'hospitality-leisure'],
];

/** Autonomous systems: hosting companies of the kind that keep turning up under C2 servers. */
export const AS_NAMES = [
  'HostSpace Networks', 'Quantum Datacenter', 'Bluewave Hosting', 'NordFrame Cloud', 'Vectra Transit',
  'Palisade Internet', 'Skyline Colo', 'Zenith VPS', 'Carrier Peak', 'Coldfront Servers', 'Arcline Telecom',
  'Metro Fiber Exchange', 'Ionix Hosting', 'Starlane Data', 'Bastion Hosting',
] as const;
export const AS_SUFFIXES = ['LLC', 'Ltd', 'GmbH', 'S.A.', 'B.V.', 'Inc'] as const;

/** Words for malicious-looking domains ("secure-docs-verify.top"). */
export const DOMAIN_WORDS = [
  'secure', 'login', 'verify', 'account', 'update', 'billing', 'docs', 'share', 'cdn', 'sync', 'mail', 'auth',
  'portal', 'support', 'invoice', 'track', 'cloud', 'files', 'drive', 'notice', 'office', 'payment', 'service',
  'wallet', 'signin', 'access', 'delivery', 'parcel', 'helpdesk', 'storage', 'api', 'static', 'media', 'connect',
] as const;
export const MALICIOUS_TLDS = [
  'com', 'net', 'org', 'top', 'xyz', 'info', 'online', 'site', 'live', 'shop', 'club', 'ru', 'su', 'cc', 'icu',
  'buzz', 'link', 'biz',
] as const;
/** Well-known services that show up in telemetry and are allow-listed; asserted only with benign indicators. */
export const BENIGN_DOMAINS = [
  'windowsupdate.com', 'update.microsoft.com', 'ocsp.digicert.com', 'time.google.com', 'dns.google',
  'cloudflare-dns.com', 'github.com', 'slack.com', 'zoom.us', 'office.com', 'login.microsoftonline.com',
  'apple.com', 'amazonaws.com', 'akamaiedge.net', 'ubuntu.com', 'debian.org', 'python.org', 'npmjs.org',
  'salesforce.com', 'okta.com',
] as const;

export const URL_PATHS = [
  '/wp-content/uploads/', '/wp-includes/js/', '/admin/', '/gate.php', '/panel/login.php', '/bins/', '/download/',
  '/files/', '/invoice/', '/api/v1/', '/static/js/', '/update/', '/docs/', '/share/', '/tmp/',
] as const;
export const URL_FILES = [
  'invoice.zip', 'setup.exe', 'update.msi', 'document.iso', 'payload.bin', 'mips', 'arm7', 'x86', 'stage2.ps1',
  'loader.dll', 'report.lnk', 'scan.hta', 'index.php', 'config.bin', 'client.jar',
] as const;

export const FILE_NAMES = [
  'invoice', 'payment_advice', 'scan', 'setup', 'update', 'svchost', 'rundll', 'report', 'order', 'shipping_doc',
  'statement', 'resume', 'contract', 'agent', 'helper', 'driver', 'launcher', 'msedge_update',
] as const;
export const FILE_EXTENSIONS = ['exe', 'dll', 'js', 'vbs', 'ps1', 'docm', 'xlsm', 'lnk', 'iso', 'zip', 'elf', 'hta'] as const;

export const EMAIL_LOCALS = [
  'billing', 'invoice', 'noreply', 'support', 'hr.department', 'payroll', 'it-helpdesk', 'account.security',
  'docs', 'shipping', 'ceo.office', 'finance', 'alerts', 'admin', 'delivery',
] as const;

export const INCIDENT_SUMMARIES = [
  'Beaconing from finance workstation',
  'Credential phishing wave against payroll',
  'Ransomware precursor activity on file server',
  'Webshell found on public web server',
  'Suspicious PowerShell download cradle',
  'Outbound traffic to known C2 from VPN pool',
  'Malicious attachment opened by sales staff',
  'Brute force against remote access gateway',
  'Data staging ahead of exfiltration',
  'Cryptominer on build agent',
] as const;

/** Business units of the internal SOC's own organisation, used as where_sighted_refs. */
export const BUSINESS_UNITS = [
  'Finance', 'Payroll', 'Sales EMEA', 'Research', 'Manufacturing OT', 'Corporate IT', 'Customer Support',
  'Legal', 'Logistics', 'Executive Office',
] as const;

export const NOTE_TEMPLATES = [
  'Confirmed on two endpoints; host isolated and reimaged.',
  'False-positive rate low; recommend blocking at the proxy.',
  'Same infrastructure seen in last quarter\'s phishing wave.',
  'Escalated to tier 3 for memory analysis.',
  'Vendor notified; awaiting takedown of the hosting account.',
  'Matches the loader configuration extracted from the sample.',
] as const;

/** Infrastructure objects are named after the family they serve plus a role; [role, STIX infrastructure_types]. */
export const INFRASTRUCTURE_ROLES: ReadonlyArray<readonly [role: string, infrastructureType: string]> = [
  ['C2 cluster', 'command-and-control'],
  ['botnet', 'botnet'],
  ['payload staging', 'staging'],
  ['phishing kit hosting', 'phishing'],
  ['proxy network', 'anonymization'],
  ['exfiltration relay', 'exfiltration'],
  ['malware hosting', 'hosting-malware'],
];
