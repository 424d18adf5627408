/* Printable names of SMPP command ids and command_status values. */
#include <stddef.h>

#include "proto.h"

const char *
smpp_command_name(uint32_t id)
{
	switch (id) {
	case SMPP_GENERIC_NACK:		return "generic_nack";
	case SMPP_BIND_RECEIVER:	return "bind_receiver";
	case SMPP_BIND_RECEIVER_RESP:	return "bind_receiver_resp";
	case SMPP_BIND_TRANSMITTER:	return "bind_transmitter";
	case SMPP_BIND_TRANSMITTER_RESP: return "bind_transmitter_resp";
	case SMPP_QUERY_SM:		return "query_sm";
	case SMPP_QUERY_SM_RESP:	return "query_sm_resp";
	case SMPP_SUBMIT_SM:		return "submit_sm";
	case SMPP_SUBMIT_SM_RESP:	return "submit_sm_resp";
	case SMPP_DELIVER_SM:		return "deliver_sm";
	case SMPP_DELIVER_SM_RESP:	return "deliver_sm_resp";
	case SMPP_UNBIND:		return "unbind";
	case SMPP_UNBIND_RESP:		return "unbind_resp";
	case SMPP_REPLACE_SM:		return "replace_sm";
	case SMPP_REPLACE_SM_RESP:	return "replace_sm_resp";
	case SMPP_CANCEL_SM:		return "cancel_sm";
	case SMPP_CANCEL_SM_RESP:	return "cancel_sm_resp";
	case SMPP_BIND_TRANSCEIVER:	return "bind_transceiver";
	case SMPP_BIND_TRANSCEIVER_RESP: return "bind_transceiver_resp";
	case SMPP_OUTBIND:		return "outbind";
	case SMPP_ENQUIRE_LINK:		return "enquire_link";
	case SMPP_ENQUIRE_LINK_RESP:	return "enquire_link_resp";
	case SMPP_SUBMIT_MULTI:		return "submit_multi";
	case SMPP_SUBMIT_MULTI_RESP:	return "submit_multi_resp";
	case SMPP_ALERT_NOTIFICATION:	return "alert_notification";
	case SMPP_DATA_SM:		return "data_sm";
	case SMPP_DATA_SM_RESP:		return "data_sm_resp";
	}
	return "unknown";
}

const char *
smpp_status_name(uint32_t status)
{
	static const struct {
		uint32_t	 status;
		const char	*name;
	} names[] = {
		{ SMPP_ROK, "ESME_ROK" },
		{ SMPP_RINVMSGLEN, "ESME_RINVMSGLEN" },
		{ SMPP_RINVCMDLEN, "ESME_RINVCMDLEN" },
		{ SMPP_RINVCMDID, "ESME_RINVCMDID" },
		{ SMPP_RINVBNDSTS, "ESME_RINVBNDSTS" },
		{ SMPP_RALYBND, "ESME_RALYBND" },
		{ SMPP_RINVPRTFLG, "ESME_RINVPRTFLG" },
		{ SMPP_RINVREGDLVFLG, "ESME_RINVREGDLVFLG" },
		{ SMPP_RSYSERR, "ESME_RSYSERR" },
		{ SMPP_RINVSRCADR, "ESME_RINVSRCADR" },
		{ SMPP_RINVDSTADR, "ESME_RINVDSTADR" },
		{ SMPP_RINVMSGID, "ESME_RINVMSGID" },
		{ SMPP_RBINDFAIL, "ESME_RBINDFAIL" },
		{ SMPP_RINVPASWD, "ESME_RINVPASWD" },
		{ SMPP_RINVSYSID, "ESME_RINVSYSID" },
		{ SMPP_RCANCELFAIL, "ESME_RCANCELFAIL" },
		{ SMPP_RREPLACEFAIL, "ESME_RREPLACEFAIL" },
		{ SMPP_RMSGQFUL, "ESME_RMSGQFUL" },
		{ SMPP_RINVSERTYP, "ESME_RINVSERTYP" },
		{ SMPP_RINVNUMDESTS, "ESME_RINVNUMDESTS" },
		{ SMPP_RINVDLNAME, "ESME_RINVDLNAME" },
		{ SMPP_RINVDESTFLAG, "ESME_RINVDESTFLAG" },
		{ SMPP_RINVSUBREP, "ESME_RINVSUBREP" },
		{ SMPP_RINVESMCLASS, "ESME_RINVESMCLASS" },
		{ SMPP_RCNTSUBDL, "ESME_RCNTSUBDL" },
		{ SMPP_RSUBMITFAIL, "ESME_RSUBMITFAIL" },
		{ SMPP_RINVSRCTON, "ESME_RINVSRCTON" },
		{ SMPP_RINVSRCNPI, "ESME_RINVSRCNPI" },
		{ SMPP_RINVDSTTON, "ESME_RINVDSTTON" },
		{ SMPP_RINVDSTNPI, "ESME_RINVDSTNPI" },
		{ SMPP_RINVSYSTYP, "ESME_RINVSYSTYP" },
		{ SMPP_RINVREPFLAG, "ESME_RINVREPFLAG" },
		{ SMPP_RINVNUMMSGS, "ESME_RINVNUMMSGS" },
		{ SMPP_RTHROTTLED, "ESME_RTHROTTLED" },
		{ SMPP_RINVSCHED, "ESME_RINVSCHED" },
		{ SMPP_RINVEXPIRY, "ESME_RINVEXPIRY" },
		{ SMPP_RINVDFTMSGID, "ESME_RINVDFTMSGID" },
		{ SMPP_RX_T_APPN, "ESME_RX_T_APPN" },
		{ SMPP_RX_P_APPN, "ESME_RX_P_APPN" },
		{ SMPP_RX_R_APPN, "ESME_RX_R_APPN" },
		{ SMPP_RQUERYFAIL, "ESME_RQUERYFAIL" },
		{ SMPP_RINVOPTPARSTREAM, "ESME_RINVOPTPARSTREAM" },
		{ SMPP_ROPTPARNOTALLWD, "ESME_ROPTPARNOTALLWD" },
		{ SMPP_RINVPARLEN, "ESME_RINVPARLEN" },
		{ SMPP_RMISSINGOPTPARAM, "ESME_RMISSINGOPTPARAM" },
		{ SMPP_RINVOPTPARAMVAL, "ESME_RINVOPTPARAMVAL" },
		{ SMPP_RDELIVERYFAILURE, "ESME_RDELIVERYFAILURE" },
		{ SMPP_RUNKNOWNERR, "ESME_RUNKNOWNERR" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].status == status)
			return names[i].name;
	if (status >= 0x400 && status <= 0x4FF)
		return "vendor";
	return "unknown";
}
