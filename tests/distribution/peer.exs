# A remote-controlled Elixir node for the distribution interop tests.
# The test sends {:eval, from, code}; the code runs here (in this process, with the
# bindings of earlier evals) and the value comes back as {:result, value}.
defmodule Peer do
  def loop(binding) do
    receive do
      {:eval, from, code} ->
        {result, binding} =
          try do
            Code.eval_string(code, binding)
          catch
            kind, reason -> {{:peer_error, kind, reason}, binding}
          end

        send(from, {:result, result})
        loop(binding)

      :stop ->
        :ok
    end
  end
end

Process.register(self(), :peer)
# PEER_BOOT: code to run before READY, whose bindings the evals then see.
{_, binding} = Code.eval_string(System.get_env("PEER_BOOT", ""))
IO.puts("READY")
Peer.loop(binding)
