package voice

// Refusals that only one platform, or only the edge, meets: how people are told that
// accessbot cannot tell who they are, or cannot do what they clicked. Each is the Message
// of a governance.Problem, which Error renders like any other.

// SlackNoScope: accessbot may not read Slack profiles.
const SlackNoScope = "accessbot may not read Slack profiles. " +
	"Ask your Slack admin to reinstall accessbot with the users:read and users:read.email scopes."

// SlackUnknownUser: Slack does not know the user who acted.
func SlackUnknownUser(userID string) string {
	return "Slack does not know your user " + userID + ", so I cannot tell who you are. " +
		"If you are in a shared channel from another workspace, ask from your own workspace."
}

// SlackNoEmail: Slack shows no e-mail address for the user who acted.
const SlackNoEmail = "Slack does not show me an e-mail address for you, so I cannot tell who you are. " +
	"Bots and guests without an e-mail address cannot use accessbot; otherwise ask your " +
	"Slack admin to give accessbot the users:read.email scope."

// SlackOtherWorkspace: a command or click from a Slack workspace or org accessbot does not serve.
const SlackOtherWorkspace = "This accessbot serves another Slack workspace, so it cannot act on a request from this one; " +
	"ask your Slack admin which access bot serves yours."

// SlackExternalUser: the user who acted belongs to another workspace or organisation (Slack Connect).
const SlackExternalUser = "You are here from another workspace or organisation, so accessbot cannot tell who you are; " +
	"ask for access in your own organisation."

// SlackDeactivated: Slack lists the user who acted as deactivated.
const SlackDeactivated = "Slack lists your account as deactivated, so accessbot cannot act for you; " +
	"ask your Slack admin to reactivate it."

// SlackBotUser: a bot or an app acted.
const SlackBotUser = "Bots and apps cannot use accessbot: a person asks for access, and a person decides."

// SlackGuestRefused: a guest acted where guests may not use accessbot.
const SlackGuestRefused = "Slack lists you as a guest in this workspace, and guests cannot use accessbot here; " +
	"ask your access admins for help."

// SlackGuestCannotDecide: a guest clicked Approve or Deny.
const SlackGuestCannotDecide = "Slack lists you as a guest in this workspace, and guests may ask for access but never approve or deny it; " +
	"ask your access admins to name a member as approver instead."

// SlackFormTooLate: Slack refused to open the deny form because the click came too late.
const SlackFormTooLate = "Slack did not let me open the form in time; click Deny again."

// TeamsNoEmail: Teams tells no e-mail address for the user who acted.
const TeamsNoEmail = "Teams did not tell accessbot your e-mail address (guest and anonymous users have none), " +
	"so it cannot tell who you are; ask your admins to add you as a member."

// TeamsOtherTenant: the user who acted belongs to an organisation accessbot does not serve.
const TeamsOtherTenant = "You belong to another organisation than accessbot serves, so it cannot tell who you are here; " +
	"ask for access in your own organisation."

// UnknownCommand: a command no platform knows.
const UnknownCommand = "I don't know that command; `help` lists them."

// UnknownButton: a click on a button accessbot does not know.
const UnknownButton = "That button is not one accessbot knows; send `help`."
